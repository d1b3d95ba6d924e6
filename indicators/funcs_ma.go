package indicators

// maFuncs are the moving averages and the indicators built on a
// moving-average type.
var maFuncs = []Func{}
