package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/indicators"
)

func indicatorsCommand() *cli.Command {
	return &cli.Command{
		Name:  "indicators",
		Usage: "list the indicator functions that specs can name, with parameters and outputs",
		Description: `Lists every function of the indicators registry: its parameters in order, each with
its default and the range accepted (a moving-average type is a name such as sma or ema, or
TA-Lib's number), and the fields it writes. The fields are named after the spec: "macd"
writes macd, macd_signal and macd_hist, "fast=macd(5,35,5)" writes fast, fast_signal and
fast_hist. --format json prints the same as a JSON array, for scripts.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text or json"},
		},
		Action: indicatorsAction,
	}
}

func indicatorsAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("indicators takes no arguments, got %q", c.Args().First())
	}
	list := listIndicators()
	switch f := c.String("format"); f {
	case "text":
		return writeIndicatorsText(c.App.Writer, list)
	case "json":
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	default:
		return usageError("--format: %q is not text or json", f)
	}
}

// indicatorInfo is one registered function as listed; the JSON names are a
// contract for scripts.
type indicatorInfo struct {
	Name    string          `json:"name"`
	Doc     string          `json:"doc"`
	Spec    string          `json:"spec"` // the spec with every default written out
	Params  []indicatorParm `json:"params"`
	Outputs []string        `json:"outputs"` // the function's output names ("" for the value of a one-output function)
	Fields  []string        `json:"fields"`  // the fields written for a spec named after the function
}

// indicatorParm is one parameter. For kind "matype" Default is a type name
// and Values lists the names; otherwise Default, Min and Max are numbers.
type indicatorParm struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // int, float or matype
	Default any      `json:"default"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Values  []string `json:"values,omitempty"`
}

func listIndicators() []indicatorInfo {
	var out []indicatorInfo
	for _, f := range indicators.Funcs() {
		spec := indicators.Spec{Name: f.Name, Func: f}
		info := indicatorInfo{Name: f.Name, Doc: f.Doc, Outputs: f.Outputs, Params: []indicatorParm{}}
		for _, p := range f.Params {
			spec.Args = append(spec.Args, p.Default)
			info.Params = append(info.Params, paramInfo(p))
		}
		info.Spec = spec.String()
		info.Fields = spec.Fields()
		out = append(out, info)
	}
	return out
}

func paramInfo(p indicators.Param) indicatorParm {
	switch p.Kind {
	case indicators.MATypeParam:
		var names []string
		for t := indicators.MAType(p.Min); t <= indicators.MAType(p.Max); t++ {
			names = append(names, t.String())
		}
		return indicatorParm{Name: p.Name, Kind: "matype", Default: indicators.MAType(p.Default).String(), Values: names}
	case indicators.IntParam:
		return indicatorParm{Name: p.Name, Kind: "int", Default: p.Default, Min: &p.Min, Max: &p.Max}
	default:
		return indicatorParm{Name: p.Name, Kind: "float", Default: p.Default, Min: &p.Min, Max: &p.Max}
	}
}

// writeIndicatorsText writes a block per function, the parameters on one
// line (they are too many for a table's column):
//
//	macd  moving average convergence/divergence
//	      parameters  fastperiod=12 [2..100000], slowperiod=26 [2..100000], ...
//	      fields      macd, macd_signal, macd_hist
func writeIndicatorsText(w io.Writer, list []indicatorInfo) error {
	width := 0
	for _, f := range list {
		width = max(width, len(f.Name))
	}
	var b strings.Builder
	var types []string
	for _, f := range list {
		params := make([]string, len(f.Params))
		for i, p := range f.Params {
			params[i] = p.Name + "=" + paramText(p)
			if p.Values != nil {
				types = p.Values
			}
		}
		if len(params) == 0 {
			params = []string{"none"}
		}
		fmt.Fprintf(&b, "%-*s  %s\n", width, f.Name, f.Doc)
		fmt.Fprintf(&b, "%-*s  parameters  %s\n", width, "", strings.Join(params, ", "))
		fmt.Fprintf(&b, "%-*s  fields      %s\n", width, "", strings.Join(f.Fields, ", "))
	}
	fmt.Fprintf(&b, "\nParameters show the default and [the range accepted]; a [type] is a moving-average\n"+
		"type: %s, or TA-Lib's number 0..%d.\n"+
		"A spec is FUNCTION, FUNCTION(ARGS) or NAME=FUNCTION(ARGS), as \"macd(12,26,9),slow=sma(200)\":\n"+
		"omitted arguments take their defaults, and NAME replaces the function's name in the fields.\n",
		strings.Join(types, ", "), len(types)-1)
	_, err := io.WriteString(w, b.String())
	return err
}

func paramText(p indicatorParm) string {
	if p.Kind == "matype" {
		return fmt.Sprintf("%v [type]", p.Default)
	}
	num := func(v float64) string {
		if v == math.MaxFloat64 {
			return "any" // no bound but finiteness
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("%s [%s..%s]", num(p.Default.(float64)), num(*p.Min), num(*p.Max))
}
