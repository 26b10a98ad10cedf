// Package markup turns Markdown into HTML as Jekyll's kramdown does
// (the GFM parser, kramdown's extensions: IALs, abbreviations, footnotes,
// the table of contents, math, the markdown attribute, typographic
// characters, and kramdown's own rules where CommonMark parts from
// them: lists nested by kind and their paragraphs item by item, IALs
// before their block, smart quotes, two-tilde strikethrough, HTML
// blocks and the tags within them as kramdown reads and writes them)
// and highlights code as Rouge's HTML formatter does (Liquid by a lexer
// of its own). It knows nothing of sites, Liquid or front matter.
package markup
