// Package plugins holds the Jekyll plugins built into islet
// (jekyll-redirect-from, jekyll-paginate, jekyll-feed, jekyll-sitemap,
// jekyll-seo-tag, and of GitHub Pages' set jekyll-github-metadata,
// jekyll-include-cache, jekyll-avatar, jekyll-mentions,
// jekyll-titles-from-headings, jekyll-default-layout,
// jekyll-optional-front-matter, jekyll-readme-index,
// jekyll-relative-links and jekyll-gist), each behind the small Plugin
// interface: the Liquid tags it adds, the pages it generates and, for
// those that rewrite pages as html-pipeline does, what it does to each
// rendered page, through what the renderer lets a plugin see of a site
// (Site, Page). It renders nothing itself.
package plugins
