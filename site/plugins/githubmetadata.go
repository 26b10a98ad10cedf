package plugins

import (
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"

	"islet.dev/islet/site/liquid"
)

// githubMetadata is jekyll-github-metadata 2.15 as it runs without
// network access, which a render never has: site.github holds what the
// repository's name (PAGES_REPO_NWO, the repository setting, or the
// origin remote in .git/config) and the environment give, and every
// value only GitHub's API knows is nil (false for the lists). It sets
// site.title when the configuration has none (the repository's name,
// or its owner's for a user page) and, in production, site.url and
// site.baseurl, as the plugin does. It says once that it is offline.
type githubMetadata struct{}

func (githubMetadata) Name() string                   { return "jekyll-github-metadata" }
func (githubMetadata) Tags(Site) map[string]TagParser { return nil }

// GitHubMetadataEnv are the environment variables the plugin reads.
var GitHubMetadataEnv = []string{"PAGES_REPO_NWO", "PAGES_ENV", "JEKYLL_ENV", "PAGES_API_URL", "API_URL", "PAGES_HELP_URL",
	"HELP_URL", "PAGES_GITHUB_HOSTNAME", "GITHUB_HOSTNAME", "PAGES_PAGES_HOSTNAME", "PAGES_HOSTNAME", "SSL",
	"SUBDOMAIN_ISOLATION", "PAGE_BUILD_ID", "JEKYLL_BUILD_REVISION"}

// pagesEnv is the plugin's view of the environment (its Pages class).
type pagesEnv struct {
	get func(string) string
	env string
}

func (p pagesEnv) v(key, def string) string {
	if x := p.get(key); x != "" {
		return x
	}
	return def
}

func (p pagesEnv) hostname() string {
	return strings.TrimSuffix(p.v("PAGES_GITHUB_HOSTNAME", p.v("GITHUB_HOSTNAME", "github.com")), "/")
}
func (p pagesEnv) pagesHostname() string {
	def := p.get("PAGES_HOSTNAME")
	if def == "" && p.env == "development" {
		def = "localhost:4000"
	}
	if def == "" {
		def = "github.io"
	}
	return strings.TrimSuffix(p.v("PAGES_PAGES_HOSTNAME", def), "/")
}
func (p pagesEnv) scheme() string {
	if p.v("SSL", "false") == "true" || p.env == "test" {
		return "https"
	}
	return "http"
}
func (p pagesEnv) githubURL() string {
	if p.env == "dotcom" || p.hostname() == "github.com" {
		return "https://github.com"
	}
	return p.scheme() + "://" + p.hostname()
}
func (p pagesEnv) enterprise() bool    { return p.env == "enterprise" }
func (p pagesEnv) customDomains() bool { return p.env == "dotcom" || p.env == "test" }

// githubRemote reads owner/name from a GitHub remote URL.
var githubRemote = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`github\.com[:/]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$`)
})

// repositoryNWO finds the repository's owner/name as the plugin does.
func repositoryNWO(s Site) string {
	if n := s.Getenv("PAGES_REPO_NWO"); n != "" {
		return n
	}
	if n := liquid.LookupString(s.Config(), "repository"); n != "" {
		return n
	}
	cfg, err := s.ReadSource(".git/config")
	if err != nil {
		return ""
	}
	inOrigin := false
	for _, ln := range strings.Split(string(cfg), "\n") {
		ln = strings.TrimSpace(ln)
		if strings.HasPrefix(ln, "[") {
			inOrigin = ln == `[remote "origin"]`
			continue
		}
		if k, v, ok := strings.Cut(ln, "="); inOrigin && ok && strings.TrimSpace(k) == "url" {
			if m := githubRemote().FindStringSubmatch(strings.TrimSpace(v)); m != nil {
				return m[1] + "/" + m[2]
			}
		}
	}
	return ""
}

// Generate fills site.github and the fallbacks of the configuration.
func (githubMetadata) Generate(s Site) error {
	nwo := repositoryNWO(s)
	if nwo == "" {
		return errNoRepository
	}
	s.Logger().Warn("jekyll-github-metadata: no network: site.github holds what the repository's name and the environment give, GitHub's API is not asked", "repository", nwo)
	owner, _, _ := strings.Cut(nwo, "/")
	name := nwo[strings.LastIndexByte(nwo, '/')+1:] // the plugin's split("/").first and .last
	env := s.Getenv("PAGES_ENV")
	if env == "" {
		env = s.Environment()
	}
	p := pagesEnv{get: s.Getenv, env: env}

	ghRepo := !p.enterprise() && owner == "github"
	var userDomain string
	switch {
	case ghRepo:
		userDomain = strings.ToLower(owner + "." + p.hostname())
	case p.enterprise():
		userDomain = strings.ToLower(p.pagesHostname())
	default:
		userDomain = strings.ToLower(owner + "." + p.pagesHostname())
	}
	var userPage bool
	if p.enterprise() {
		userPage = strings.ToLower(name) == strings.ToLower(owner)+"."+p.hostname()
	} else {
		userPage = strings.ToLower(name) == userDomain || strings.ToLower(name) == strings.ToLower(owner+".github.com")
	}
	branch := "gh-pages"
	if userPage {
		branch = "master"
	}
	ownerURL := p.githubURL() + "/" + owner
	repoURL := ownerURL + "/" + name

	var htmlURL string
	if !p.customDomains() {
		pth := nwo
		if userPage {
			pth = owner
		}
		base := p.githubURL() + "/pages/"
		if p.v("SUBDOMAIN_ISOLATION", "false") == "true" {
			base = p.scheme() + "://" + p.pagesHostname() + "/"
		}
		htmlURL = joinURL(base, pth)
	} else {
		domain := userDomain
		scheme := "http"
		if owner == "github" && strings.HasSuffix(domain, ".github.com") {
			scheme = "https"
		}
		if userPage {
			htmlURL = scheme + "://" + domain
		} else {
			htmlURL = joinURL(scheme+"://"+domain, name)
		}
	}
	htmlURL = strings.TrimSuffix(htmlURL, "/")
	u, _ := url.Parse(htmlURL)
	baseurl, withoutPath := "", htmlURL
	if u != nil {
		baseurl = u.Path
		withoutPath = u.Scheme + "://" + u.Host
	}

	ownerMeta := liquid.NewMap()
	for _, k := range strings.Fields("avatar_url bio blog collaborators company created_at description email followers following has_organization_projects has_repository_projects hireable html_url id is_verified location login name node_id public_gists public_repos type updated_at") {
		ownerMeta.Set(k, nil)
	}
	source := liquid.NewMap()
	source.Set("branch", branch)
	source.Set("path", "/")
	revision := s.Getenv("JEKYLL_BUILD_REVISION")
	if revision == "" {
		revision = gitHead(s)
	}
	d := liquid.NewMap()
	for _, kv := range []struct {
		k string
		v any
	}{
		{"api_url", strings.TrimSuffix(p.v("PAGES_API_URL", p.v("API_URL", "https://api.github.com")), "/")},
		{"archived", nil}, {"baseurl", baseurl}, {"build_revision", revision},
		{"clone_url", repoURL + ".git"}, {"contributors", false}, {"disabled", nil},
		{"environment", env},
		{"help_url", strings.TrimSuffix(p.v("PAGES_HELP_URL", p.v("HELP_URL", "https://help.github.com")), "/")},
		{"hostname", p.hostname()}, {"is_project_page", !userPage}, {"is_user_page", userPage},
		{"issues_url", nil}, {"language", nil}, {"latest_release", false}, {"license", nil},
		{"organization_members", nil}, {"owner", ownerMeta}, {"owner_display_name", nil},
		{"owner_gravatar_url", ownerURL + ".png"}, {"owner_name", owner}, {"owner_url", ownerURL},
		{"pages_env", env}, {"pages_hostname", p.pagesHostname()}, {"private", nil},
		{"project_tagline", nil}, {"project_title", name}, {"public_repositories", nil},
		{"releases", false}, {"releases_url", repoURL + "/releases"}, {"repository_name", name},
		{"repository_nwo", nwo}, {"repository_url", repoURL}, {"show_downloads", nil}, {"source", source},
		{"tar_url", repoURL + "/tarball/" + branch}, {"url", htmlURL}, {"versions", liquid.NewMap()},
		{"wiki_url", nil}, {"zip_url", repoURL + "/zipball/" + branch},
	} {
		d.Set(kv.k, kv.v)
	}
	cfg := s.Config()
	switch g, _ := cfg.Get("github"); g := g.(type) {
	case nil:
		cfg.Set("github", d)
	case *liquid.Map:
		d.DeepMerge(g)
		cfg.Set("github", d)
	}
	// The fallbacks of the configuration, which a site's own settings win.
	if title, _ := cfg.Get("title"); title == nil {
		if n, _ := cfg.Get("name"); n == nil {
			t := name
			if userPage {
				t = owner
			}
			cfg.Set("title", t)
		}
	}
	if s.Environment() == "production" || s.Getenv("PAGE_BUILD_ID") != "" {
		if v, _ := cfg.Get("url"); v == nil {
			cfg.Set("url", withoutPath)
		}
		if v, _ := cfg.Get("baseurl"); v == nil || v == "/" {
			cfg.Set("baseurl", baseurl)
		}
	}
	return nil
}

type noRepositoryError struct{}

func (noRepositoryError) Error() string {
	return "No repo name found. Specify using PAGES_REPO_NWO environment variables, 'repository' in your configuration, or set up an 'origin' git remote pointing to your github.com repository."
}

var errNoRepository error = noRepositoryError{}

// joinURL is Ruby's URI.join of a base and a relative path: the path
// replaces the base's last segment unless the base ends in "/".
func joinURL(base, rel string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base + rel
	}
	switch {
	case u.Path == "":
		u.Path = "/"
	case !strings.HasSuffix(u.Path, "/"):
		u.Path = path.Dir(u.Path)
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
	}
	u.Path += rel
	return u.String()
}

// gitHead is the commit the source's .git/HEAD names, "" without one.
func gitHead(s Site) string {
	head, err := s.ReadSource(".git/HEAD")
	if err != nil {
		return ""
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
	if !ok {
		return strings.TrimSpace(string(head))
	}
	if b, err := s.ReadSource(path.Join(".git", ref)); err == nil {
		return strings.TrimSpace(string(b))
	}
	packed, err := s.ReadSource(".git/packed-refs")
	if err != nil {
		return ""
	}
	for _, ln := range strings.Split(string(packed), "\n") {
		if sha, name, ok := strings.Cut(strings.TrimSpace(ln), " "); ok && name == ref {
			return sha
		}
	}
	return ""
}
