//go:build !race

package slogmdc_test

const raceEnabled = false
