package config

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// applyYAML reads a YAML document of sections and keys, rejecting unknown
// and repeated keys and values of the wrong kind with the file and line.
func (c *Config) applyYAML(name string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: %s: %w", name, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty file: nothing to apply
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config: %s:%d: the file must be a mapping of sections (async, indicators, ...)", name, root.Line)
	}
	return c.walk(name, "", root)
}

func (c *Config) walk(name, prefix string, m *yaml.Node) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if line, dup := seen[k.Value]; dup {
			return fmt.Errorf("config: %s:%d: key %q repeated (first on line %d)", name, k.Line, key, line)
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if prefix == "" {
			if !isSection(key) {
				return fmt.Errorf("config: %s:%d: unknown key %q (sections are %s)", name, k.Line, key, strings.Join(sections(), ", "))
			}
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("config: %s:%d: %s must be a mapping of keys", name, v.Line, key)
			}
			if err := c.walk(name, key+".", v); err != nil {
				return err
			}
			continue
		}
		f, ok := byKey[key]
		if r, renamed := renamedKey[key]; renamed {
			return fmt.Errorf("config: %s:%d: key %q is now %q (%s)", name, k.Line, key, r.Key, r.Usage)
		}
		if !ok {
			return fmt.Errorf("config: %s:%d: unknown key %q", name, k.Line, key)
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("config: %s:%d: %s must be a single value", name, v.Line, key)
		}
		if err := c.set(f, v.Value, "file", fmt.Sprintf("%s:%d: %s", name, v.Line, key)); err != nil {
			return fmt.Errorf("config: %s:%d: %s: %w", name, v.Line, key, err)
		}
	}
	return nil
}

func sections() []string {
	var out []string
	for _, f := range fields {
		s := f.Key[:strings.IndexByte(f.Key, '.')]
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

func isSection(s string) bool {
	for _, x := range sections() {
		if x == s {
			return true
		}
	}
	return false
}

// YAML renders the configuration as a YAML file that [Load] reads back to
// the same values; each line's comment tells where the value came from.
// Secret values are redacted.
func (c *Config) YAML() []byte {
	return c.render("", func(f *Field, val, _ *yaml.Node) { val.LineComment = c.Origin(f.Key) })
}

// Template renders every setting at its default as a YAML file to start a
// configuration from: each key is preceded by what it means, the values it
// accepts, and the environment variable and flag that override it. It is
// made from the same table as [Load] and [Config.YAML], so it cannot name a
// setting that does not exist.
func Template() []byte {
	head := `tickflow configuration: read with --config FILE (or $TICKFLOW_CONFIG).
Each value here is the default. TICKFLOW_* variables override the file,
and flags override both. Delete what you do not change.`
	return Default().render(head, func(f *Field, val, key *yaml.Node) {
		key.HeadComment = f.Usage
		if r := f.Range(); r != "" {
			key.HeadComment += "\n" + r
		}
		dashes := "--"
		if len(f.Flag) == 1 {
			dashes = "-"
		}
		key.HeadComment += fmt.Sprintf("\n$%s, %s%s", f.Env, dashes, f.Flag)
	})
}

// render builds the YAML document of c, letting note comment each value.
func (c *Config) render(head string, note func(f *Field, val, key *yaml.Node)) []byte {
	root := &yaml.Node{Kind: yaml.MappingNode, HeadComment: head}
	var sec *yaml.Node
	last := ""
	for _, f := range fields {
		dot := strings.IndexByte(f.Key, '.')
		if s := f.Key[:dot]; s != last {
			last = s
			sec = &yaml.Node{Kind: yaml.MappingNode}
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s}, sec)
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: f.Key[dot+1:]}
		val := &yaml.Node{Kind: yaml.ScalarNode, Value: f.Value(c)}
		if _, isString := f.get(c).(*string); isString {
			val.Style = yaml.DoubleQuotedStyle
		}
		note(f, val, key)
		sec.Content = append(sec.Content, key, val)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		panic(fmt.Sprintf("config: rendering YAML: %v", err)) // nodes built above always encode
	}
	_ = enc.Close()
	return b.Bytes()
}
