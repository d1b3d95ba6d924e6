// Package chaos is tickflow's fault suite: tests that run the real
// components (the Alpaca client and sources, the pipeline, the stores)
// against the fakes (alpaca/alpacatest, a PostgreSQL server) while faults
// are injected, and assert exact counts of bars in, out, dropped and
// duplicated, and of the retries the faults cost. It holds no code but
// its tests; they run under go test -race ./... like any other.
//
// The faults come from alpacatest.Faults (429 and 500 answers, delays,
// stream cuts) and from a TCP proxy in the tests that resets connections
// part-way through an answer, stalls an answer half-way, or cuts every
// connection at once (a database restart):
//
//	client ──► proxy (reset / stall / cut all) ──► fake Alpaca | PostgreSQL
//
// Faults whose test needs a package's internals or the CLI's process live
// beside that code, and docs/faults.md lists them all with their tests:
//
//   - stream --orders paper against 429 on every third trading request:
//     TestStreamOrdersRateLimited in cmd/tickflow;
//   - 200 SSE readers and 500 /api/symbols requests beside a pipeline of
//     20,000 bars/s over 1,000 symbols: TestLoadKeepsThePipelineRate in
//     server;
//   - SIGKILL of run mid-journal: TestJournalSIGKILL in store;
//   - terminated PostgreSQL backends: TestJournalSurvivesLostConnections
//     and TestStoreSourceSurvivesLostConnections in store.
//
// The benchmarks here measure the ADR's success criteria (see
// docs/faults.md for the figures and the commands).
package chaos
