package awsconn

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// proxyVars are the variables net/http takes its proxies from
// (http.ProxyFromEnvironment), for https and for http calls, each in the
// order it reads them: the first that is set is the one it takes.
var proxyVars = [][]string{{"HTTPS_PROXY", "https_proxy"}, {"HTTP_PROXY", "http_proxy"}}

// checkProxies refuses a proxy variable that net/http would not read as
// written. It reads one that does not parse as a URL with a scheme and a
// host as "http://" + the value, which serves host:port but turns
// "http://user:pass word@host:port" into a proxy named "http"; and it
// ignores one that does not parse either way, so the calls go direct. The
// error names the variable and never its value, which may hold a password.
func checkProxies() error {
	for _, names := range proxyVars {
		for _, name := range names {
			v := os.Getenv(name)
			if v == "" {
				continue
			}
			if !proxyReadable(v) {
				return fmt.Errorf("%s: not a URL that can be read: write it as http://USER:PASSWORD@HOST:PORT or HOST:PORT, with PORT a number and an IPv6 address in brackets, and percent-encode the special characters of its user name and password (a space as %%20, # as %%23, / as %%2F, ? as %%3F, @ as %%40, %% as %%25)", name)
			}
			break // the variables after it are not read
		}
	}
	return nil
}

// proxyReadable reports whether net/http reads the proxy v as written.
func proxyReadable(v string) bool {
	u, err := url.Parse(v)
	if err == nil && u.Scheme != "" && u.Host != "" {
		// An @ outside the login: a # or / in a password of digits that
		// still parses, as host:port with the rest for a fragment or path.
		return u.User != nil || !strings.Contains(v, "@")
	}
	if strings.Contains(v, "://") || strings.Contains(v, "@") {
		// "http://" + v would read its scheme or its login as the host.
		return false
	}
	u, err = url.Parse("http://" + v)
	return err == nil && u.Host != ""
}
