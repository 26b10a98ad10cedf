// Package plugins holds the Jekyll plugins built into islet
// (jekyll-redirect-from, jekyll-paginate, jekyll-feed, jekyll-sitemap,
// jekyll-seo-tag, and of GitHub Pages' set jekyll-include-cache,
// jekyll-avatar, jekyll-titles-from-headings, jekyll-default-layout,
// jekyll-optional-front-matter, jekyll-readme-index,
// jekyll-relative-links and jekyll-gist), each behind the small Plugin
// interface: the Liquid
// tags it adds and the pages it generates, through what the renderer
// lets a plugin see of a site (Site, Page). It renders nothing itself.
package plugins
