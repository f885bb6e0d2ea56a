//go:build !unix

package audit_test

import "math"

// cpuSeconds is not measured here: the benchmarks report NaN.
func cpuSeconds() float64 { return math.NaN() }
