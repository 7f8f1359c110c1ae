//go:build race

package e2e

// raceEnabled: the tests run under -race, so skiff is built with -race too.
const raceEnabled = true
