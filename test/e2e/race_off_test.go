//go:build !race

package e2e

// raceEnabled: the tests run without -race, so skiff is built without it.
const raceEnabled = false
