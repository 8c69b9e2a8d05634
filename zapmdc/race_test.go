//go:build race

package zapmdc_test

const raceEnabled = true
