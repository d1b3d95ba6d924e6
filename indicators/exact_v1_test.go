//go:build amd64 && !amd64.v3

package indicators

// bitExact: the default amd64 build (GOAMD64 v1 or v2) has no FMA, so neither
// go-talib nor this package fuses a*b+c and every value must match go-talib
// bit for bit.
const bitExact = true
