//go:build race

package server_test

// raceDetector scales the load test down: the detector slows the code
// several times.
const raceDetector = true
