// Package markup turns Markdown into HTML as Jekyll's kramdown does
// (the GFM parser, kramdown's extensions: IALs, abbreviations, footnotes,
// typographic characters, and kramdown's own rules where CommonMark
// parts from them: lists nested by kind, IALs before their block, smart
// quotes, two-tilde strikethrough) and highlights code as Rouge's HTML
// formatter does (Liquid by a lexer of its own). It knows nothing of sites, Liquid or front matter.
package markup
