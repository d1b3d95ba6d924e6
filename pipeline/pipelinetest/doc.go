// Package pipelinetest checks that a Source, Stage or Sink follows the rules
// a pipeline relies on, so that a user-written component can be tested the
// same way as the ones in tickflow:
//
//   - it emits only while the call that received the Emitter runs, from one
//     goroutine at a time;
//   - it stops when its context is cancelled or Emit fails, and reports it;
//   - a live source calls Flush before it waits for input, so that nothing
//     it emitted waits in a batch that is not full (SourceOptions.MaxHold);
//   - it leaves no goroutine behind;
//   - a stage gives the same output in a parallel pipeline as run alone, key
//     by key;
//   - a sink keeps no reference to a batch after Write returns.
//
// Channels never appear in the component interfaces: the pipeline owns and
// closes them, so a component cannot close what it was given.
//
// Call the checks from an ordinary test; they use t.Run for each rule and
// must not run in parallel with other tests (goroutine counting). A
// component that uses an Emitter after the call that received it returned
// makes the check panic, since the test that owned the Emitter may be over.
package pipelinetest
