package chroma

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/dlclark/regexp2/v2/syntax"
)

// A Rule is the fundamental matching unit of the Regex lexer state machine.
type Rule struct {
	Pattern string
	Type    Emitter
	Mutator Mutator
}

// Words creates a regex that matches any of the given literal words.
func Words(prefix, suffix string, words ...string) string {
	sort.Slice(words, func(i, j int) bool {
		return len(words[j]) < len(words[i])
	})
	for i, word := range words {
		words[i] = regexp.QuoteMeta(word)
	}
	return prefix + `(` + strings.Join(words, `|`) + `)` + suffix
}

// Tokenise text using lexer, returning tokens as a slice.
func Tokenise(lexer Lexer, options *TokeniseOptions, text string) ([]Token, error) {
	var out []Token
	it, err := lexer.Tokenise(options, text)
	if err != nil {
		return nil, err
	}
	for t := it(); t != EOF; t = it() {
		out = append(out, t)
	}
	return out, nil
}

// Rules maps from state to a sequence of Rules.
type Rules map[string][]Rule

// Rename clones rules then a rule.
func (r Rules) Rename(oldRule, newRule string) Rules {
	r = r.Clone()
	r[newRule] = r[oldRule]
	delete(r, oldRule)
	return r
}

// Clone returns a clone of the Rules.
func (r Rules) Clone() Rules {
	out := map[string][]Rule{}
	for key, rules := range r {
		out[key] = make([]Rule, len(rules))
		copy(out[key], rules)
	}
	return out
}

// Merge creates a clone of "r" then merges "rules" into the clone.
func (r Rules) Merge(rules Rules) Rules {
	out := r.Clone()
	maps.Copy(out, rules.Clone())
	return out
}

// MustNewLexer creates a new Lexer with deferred rules generation or panics.
func MustNewLexer(config *Config, rules func() Rules) *RegexLexer {
	lexer, err := NewLexer(config, rules)
	if err != nil {
		panic(err)
	}
	return lexer
}

// NewLexer creates a new regex-based Lexer.
//
// "rules" is a state machine transition map. Each key is a state. Values are sets of rules
// that match input, optionally modify lexer state, and output tokens.
func NewLexer(config *Config, rulesFunc func() Rules) (*RegexLexer, error) {
	if config == nil {
		config = &Config{}
	}
	for _, glob := range append(config.Filenames, config.AliasFilenames...) {
		_, err := filepath.Match(glob, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a valid glob: %w", config.Name, glob, err)
		}
	}
	r := &RegexLexer{
		config:         config,
		fetchRulesFunc: func() (Rules, error) { return rulesFunc(), nil },
	}
	// One-off code to generate XML lexers in the Chroma source tree.
	// var nameCleanRe = regexp.MustCompile(`[^-+A-Za-z0-9_]`)
	// name := strings.ToLower(nameCleanRe.ReplaceAllString(config.Name, "_"))
	// data, err := Marshal(r)
	// if err != nil {
	// 	if errors.Is(err, ErrNotSerialisable) {
	// 		fmt.Fprintf(os.Stderr, "warning: %q: %s\n", name, err)
	// 		return r, nil
	// 	}
	// 	return nil, err
	// }
	// _, file, _, ok := runtime.Caller(2)
	// if !ok {
	// 	panic("??")
	// }
	// fmt.Println(file)
	// if strings.Contains(file, "/lexers/") {
	// 	dir := filepath.Join(filepath.Dir(file), "embedded")
	// 	err = os.MkdirAll(dir, 0700)
	// 	if err != nil {
	// 		return nil, err
	// 	}
	// 	filename := filepath.Join(dir, name) + ".xml"
	// 	fmt.Println(filename)
	// 	err = ioutil.WriteFile(filename, data, 0600)
	// 	if err != nil {
	// 		return nil, err
	// 	}
	// }
	return r, nil
}

// Trace enables debug tracing.
//
// Deprecated: Use SetTracing instead.
func (r *RegexLexer) Trace(trace bool) *RegexLexer {
	r.trace = trace
	return r
}

// SetTracing enables debug tracing.
//
// This complies with the [TracingLexer] interface.
func (r *RegexLexer) SetTracing(trace bool) {
	r.trace = trace
}

// A CompiledRule is a Rule with a pre-compiled regex.
//
// Note that regular expressions are lazily compiled on first use of the lexer.
type CompiledRule struct {
	Rule
	Regexp *regexp2.Regexp
	flags  string
	// first holds the characters a match can start with, when the
	// regexp knows them (nil: any). An anchored regexp2 match runs its
	// whole program at every position it is tried; a lex tries each
	// rule of a state in turn, so most tries fail on the first rune.
	first *firstSet
	// named says the regexp names a group. Matches of other rules
	// without a mutator leave LexerState.NamedGroups nil: their group
	// names are their numbers, and ByGroupNames makes the map then.
	named bool

	compileOnce sync.Once
	compileErr  error
}

// compile compiles the rule's regexp the first time it is called and
// validates its emitter against it. Rules are compiled when a lex
// first tries them, not all at once when the lexer is first used: a
// large lexer (Ruby's has over a thousand rules) costs 10 ms to compile
// whole, and a snippet of code enters few of its states.
func (r *CompiledRule) compile() error {
	r.compileOnce.Do(func() {
		if r.Regexp == nil {
			pattern := "(?:" + r.Pattern + ")"
			if r.flags != "" {
				pattern = "(?" + r.flags + ")" + pattern
			}
			pattern = `\G` + pattern
			re, err := regexp2.Compile(pattern)
			if err != nil {
				r.compileErr = fmt.Errorf("failed to compile rule %q: %w", r.Pattern, err)
				return
			}
			re.MatchTimeout = time.Millisecond * 250
			r.Regexp = re
			r.first = firstChars(re, pattern)
			for _, name := range re.GetGroupNames() {
				if _, err := strconv.Atoi(name); err != nil {
					r.named = true
				}
			}
		}
		if validate, ok := r.Type.(ValidatingEmitter); ok {
			r.compileErr = validate.ValidateEmitter(r)
		}
	})
	return r.compileErr
}

// CompiledRules is a map of rule name to sequence of compiled rules in that rule.
type CompiledRules map[string][]*CompiledRule

// LexerState contains the state for a single lex.
type LexerState struct {
	Lexer    *RegexLexer
	Registry *LexerRegistry
	Text     []rune
	Pos      int
	Rules    CompiledRules
	Stack    []string
	State    string
	Rule     int
	// Group matches.
	Groups []string
	// Named Group matches.
	NamedGroups map[string]string
	// Custum context for mutators.
	MutatorContext map[any]any
	iteratorStack  []Iterator
	options        *TokeniseOptions
	newlineAdded   bool
	emptyMatches   int // matches of nothing in a row
}

// maxEmptyMatches bounds the matches of nothing in a row at one place:
// a lexer's states may push and pop a few times before one consumes.
const maxEmptyMatches = 64

// Set mutator context.
func (l *LexerState) Set(key any, value any) {
	l.MutatorContext[key] = value
}

// Get mutator context.
func (l *LexerState) Get(key any) any {
	return l.MutatorContext[key]
}

// Iterator returns the next Token from the lexer.
func (l *LexerState) Iterator() Token { // nolint: gocognit
	end := len(l.Text)
	if l.newlineAdded {
		end--
	}
	for l.Pos < end && len(l.Stack) > 0 {
		// Exhaust the iterator stack, if any.
		for len(l.iteratorStack) > 0 {
			n := len(l.iteratorStack) - 1
			t := l.iteratorStack[n]()
			if t.Type == Ignore {
				continue
			}
			if t == EOF {
				l.iteratorStack = l.iteratorStack[:n]
				continue
			}
			return t
		}

		l.State = l.Stack[len(l.Stack)-1]
		selectedRule, ok := l.Rules[l.State]
		if !ok {
			panic("unknown state " + l.State)
		}
		var start time.Time
		if l.Lexer.trace {
			start = time.Now()
		}
		var (
			ruleIndex   int
			rule        = &CompiledRule{}
			groups      []string
			namedGroups map[string]string
		)
		// A rule that matches nothing and leaves the state as it was
		// would match again forever (JSONata's last rule does on a
		// backslash): after maxEmptyMatches such matches in a row the
		// rune is an error, as when no rule matches.
		if l.emptyMatches < maxEmptyMatches {
			ruleIndex, rule, groups, namedGroups = matchRules(l.Text, l.Pos, selectedRule, l.everyRule())
		}
		if l.Lexer.trace {
			trace := json.NewEncoder(os.Stderr)
			var length int
			if groups != nil {
				length = len(groups[0])
			} else {
				length = -1
			}
			_ = trace.Encode(Trace{ //nolint
				Lexer:   l.Lexer.config.Name,
				State:   l.State,
				Rule:    ruleIndex,
				Pattern: rule.Pattern,
				Pos:     l.Pos,
				Length:  length,
				Elapsed: float64(time.Since(start)) / float64(time.Millisecond),
			})
			// fmt.Fprintf(os.Stderr, "%s: pos=%d, text=%q, elapsed=%s\n", l.State, l.Pos, string(l.Text[l.Pos:]), time.Since(start))
		}
		// No match.
		if groups == nil {
			// From Pygments :\
			//
			// If the RegexLexer encounters a newline that is flagged as an error token, the stack is
			// emptied and the lexer continues scanning in the 'root' state. This can help producing
			// error-tolerant highlighting for erroneous input, e.g. when a single-line string is not
			// closed.
			l.emptyMatches = 0
			if l.Text[l.Pos] == '\n' && l.State != l.options.State {
				l.Stack = []string{l.options.State}
				continue
			}
			l.Pos++
			return Token{Error, string(l.Text[l.Pos-1 : l.Pos])}
		}
		if groups[0] == "" {
			l.emptyMatches++
		} else {
			l.emptyMatches = 0
		}
		l.Rule = ruleIndex
		l.Groups = groups
		l.NamedGroups = namedGroups
		l.Pos += utf8.RuneCountInString(groups[0])
		if rule.Mutator != nil {
			if err := rule.Mutator.Mutate(l); err != nil {
				panic(err)
			}
		}
		if rule.Type != nil {
			l.iteratorStack = append(l.iteratorStack, rule.Type.Emit(l.Groups, l))
		}
	}
	// Exhaust the IteratorStack, if any.
	// Duplicate code, but eh.
	for len(l.iteratorStack) > 0 {
		n := len(l.iteratorStack) - 1
		t := l.iteratorStack[n]()
		if t.Type == Ignore {
			continue
		}
		if t == EOF {
			l.iteratorStack = l.iteratorStack[:n]
			continue
		}
		return t
	}

	// If we get to here and we still have text, return it as an error.
	if l.Pos != len(l.Text) && len(l.Stack) == 0 {
		value := string(l.Text[l.Pos:])
		l.Pos = len(l.Text)
		return Token{Type: Error, Value: value}
	}
	return EOF
}

// RegexLexer is the default lexer implementation used in Chroma.
type RegexLexer struct {
	registry *LexerRegistry // The LexerRegistry this Lexer is associated with, if any.
	config   *Config
	analyser func(text string) float32
	trace    bool

	mu             sync.Mutex
	compiled       bool
	rawRules       Rules
	rules          map[string][]*CompiledRule
	fetchRulesFunc func() (Rules, error)
	compileOnce    sync.Once
	compileError   error
}

func (r *RegexLexer) String() string {
	return r.config.Name
}

// Rules in the Lexer.
func (r *RegexLexer) Rules() (Rules, error) {
	if err := r.needRules(); err != nil {
		return nil, err
	}
	return r.rawRules, nil
}

// CompiledRuleCount is the number of the lexer's rules whose regexp is
// compiled: rules compile as a lex first tries them.
func (r *RegexLexer) CompiledRuleCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rules := range r.rules {
		for _, rule := range rules {
			if rule.Regexp != nil {
				n++
			}
		}
	}
	return n
}

// SetRegistry the lexer will use to lookup other lexers if necessary.
func (r *RegexLexer) SetRegistry(registry *LexerRegistry) Lexer {
	r.registry = registry
	return r
}

// SetAnalyser sets the analyser function used to perform content inspection.
func (r *RegexLexer) SetAnalyser(analyser func(text string) float32) Lexer {
	r.analyser = analyser
	return r
}

// AnalyseText scores how likely a fragment of text is to match this lexer, between 0.0 and 1.0.
func (r *RegexLexer) AnalyseText(text string) float32 {
	if r.analyser != nil {
		return r.analyser(text)
	}
	return 0
}

// SetConfig replaces the Config for this Lexer.
func (r *RegexLexer) SetConfig(config *Config) *RegexLexer {
	r.config = config
	return r
}

// Config returns the Config for this Lexer.
func (r *RegexLexer) Config() *Config {
	return r.config
}

// Regex compilation is deferred until the lexer is used. This is to avoid significant init() time costs.
func (r *RegexLexer) maybeCompile() (err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.compiled {
		return nil
	}
	// The rules' regexps are compiled as they are first tried
	// (CompiledRule.compile, from matchRules).
restart:
	seen := map[LexerMutator]bool{}
	for state := range r.rules {
		for i := range len(r.rules[state]) {
			rule := r.rules[state][i]
			if compile, ok := rule.Mutator.(LexerMutator); ok {
				if seen[compile] {
					return fmt.Errorf("saw mutator %T twice; this should not happen", compile)
				}
				seen[compile] = true
				if err := compile.MutateLexer(r.rules, state, i); err != nil {
					return err
				}
				// Process the rules again in case the mutator added/removed rules.
				//
				// This sounds bad, but shouldn't be significant in practice.
				goto restart
			}
		}
	}
	r.compiled = true
	return nil
}

func (r *RegexLexer) fetchRules() error {
	rules, err := r.fetchRulesFunc()
	if err != nil {
		return fmt.Errorf("%s: failed to compile rules: %w", r.config.Name, err)
	}
	if _, ok := rules["root"]; !ok {
		return fmt.Errorf("no \"root\" state")
	}
	compiledRules := map[string][]*CompiledRule{}
	for state, rules := range rules {
		compiledRules[state] = nil
		for _, rule := range rules {
			flags := ""
			if !r.config.NotMultiline {
				flags += "m"
			}
			if r.config.CaseInsensitive {
				flags += "i"
			}
			if r.config.DotAll {
				flags += "s"
			}
			compiledRules[state] = append(compiledRules[state], &CompiledRule{Rule: rule, flags: flags})
		}
	}

	r.rawRules = rules
	r.rules = compiledRules
	return nil
}

func (r *RegexLexer) needRules() error {
	var err error
	if r.fetchRulesFunc != nil {
		r.compileOnce.Do(func() {
			r.compileError = r.fetchRules()
		})
		if r.compileError != nil {
			return r.compileError
		}
	}
	if err := r.maybeCompile(); err != nil {
		return err
	}
	return err
}

// Tokenise text using lexer, returning an iterator.
func (r *RegexLexer) Tokenise(options *TokeniseOptions, text string) (Iterator, error) {
	err := r.needRules()
	if err != nil {
		return nil, err
	}
	if options == nil {
		options = defaultOptions
	}
	if options.EnsureLF {
		text = ensureLF(text)
	}
	newlineAdded := false
	if !options.Nested && r.config.EnsureNL && !strings.HasSuffix(text, "\n") {
		text += "\n"
		newlineAdded = true
	}
	state := &LexerState{
		Registry:       r.registry,
		newlineAdded:   newlineAdded,
		options:        options,
		Lexer:          r,
		Text:           []rune(text),
		Stack:          []string{options.State},
		Rules:          r.rules,
		MutatorContext: map[any]any{},
	}
	return state.Iterator, nil
}

// MustRules is like Rules() but will panic on error.
func (r *RegexLexer) MustRules() Rules {
	rules, err := r.Rules()
	if err != nil {
		panic(err)
	}
	return rules
}

// everyRule says the lex skips no rule (TokeniseOptions.EveryRule).
func (l *LexerState) everyRule() bool { return l != nil && l.options != nil && l.options.EveryRule }

func matchRules(text []rune, pos int, rules []*CompiledRule, every bool) (int, *CompiledRule, []string, map[string]string) {
	for i, rule := range rules {
		if rule.compile() != nil {
			// A rule that does not compile or whose emitter does not
			// fit it never matches.
			continue
		}
		if rule.first != nil && !every && (pos >= len(text) || !rule.first.canStart(text[pos])) {
			continue
		}
		match, err := rule.Regexp.FindRunesMatchStartingAt(text, pos)
		if match != nil && err == nil && match.RuneIndex == pos {
			all := match.Groups()
			groups := make([]string, len(all))
			for i := range all {
				groups[i] = all[i].String()
			}
			var namedGroups map[string]string
			if rule.named || rule.Mutator != nil {
				namedGroups = make(map[string]string, len(all))
				for i := range all {
					namedGroups[all[i].Name] = groups[i]
				}
			}
			return i, rule, groups, namedGroups
		}
	}
	return 0, &CompiledRule{}, nil, nil
}

// replace \r and \r\n with \n
// same as strings.ReplaceAll but more efficient
func ensureLF(text string) string {
	buf := make([]byte, len(text))
	var j int
	for i := range len(text) {
		c := text[i]
		if c == '\r' {
			if i < len(text)-1 && text[i+1] == '\n' {
				continue
			}
			c = '\n'
		}
		buf[j] = c
		j++
	}
	return string(buf[:j])
}

// firstSet is the set of runes a match can start with.
type firstSet struct{ set syntax.CharSet }

func (f *firstSet) canStart(ch rune) bool { return f.set.CharIn(ch) }

// firstChars is the set of runes a match of re can start with, as
// regexp2's own analysis found it when it compiled re (nil when it
// found none: the pattern can match empty, or starts with what the
// analysis does not follow). regexp2 keeps that analysis in an
// unexported field, read here through reflection; if a newer regexp2
// holds it otherwise, the pattern is analysed again.
func firstChars(re *regexp2.Regexp, pattern string) *firstSet {
	code := compiledCode(re)
	if code == nil {
		tree, err := syntax.Parse(pattern, syntax.ParseOptions{})
		if err != nil {
			return nil
		}
		if code, err = syntax.Write(tree); err != nil {
			return nil
		}
		code.PrepareCharSetASCIIBitmaps()
	}
	// A case-insensitive pattern's set holds every case of its runes
	// (Ssſ for (?i)s); a set left to be folded at match time is not
	// used.
	if code.FcPrefix == nil || code.FcPrefix.CaseInsensitive || code.RightToLeft {
		return nil
	}
	return &firstSet{set: code.FcPrefix.PrefixSet}
}

var codeType = reflect.TypeFor[*syntax.Code]()

// compiledCode is the program regexp2 compiled re to, or nil.
func compiledCode(re *regexp2.Regexp) *syntax.Code {
	f := reflect.ValueOf(re).Elem().FieldByName("code")
	if !f.IsValid() || f.Type() != codeType || f.IsNil() {
		return nil
	}
	return (*syntax.Code)(f.UnsafePointer())
}
