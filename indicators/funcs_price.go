package indicators

// priceFuncs are the indicators of price, range and volume that need no
// moving-average type.
var priceFuncs = []Func{}
