//go:build !race

package sources

// raceEnabled says the race detector is on.
const raceEnabled = false
