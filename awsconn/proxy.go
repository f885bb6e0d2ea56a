package awsconn

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// checkProxies refuses a proxy variable that net/http would read, but not
// as written. It reads one that does not parse as a URL of an http, https
// or socks5 proxy as "http://" + the value, which serves host:port and
// user:pass@host:port but turns "http://user:pass word@host:port" into a
// proxy named "http"; and it ignores one that does not parse either way,
// so the calls go direct. Only the variables some call reads are checked:
// HTTPS_PROXY (else https_proxy) for the calls to AWS, which are https;
// HTTP_PROXY (else http_proxy) only when plain http may go to another
// machine (insecure: --allow-insecure-endpoint), since Go reaches this
// one without a proxy; none when NO_PROXY is "*". The error names the
// variable and never its value, which may hold a password.
func checkProxies(insecure bool) error {
	if _, v := proxyEnv("NO_PROXY", "no_proxy"); strings.TrimSpace(v) == "*" {
		return nil
	}
	vars := [][2]string{{"HTTPS_PROXY", "https_proxy"}}
	if insecure {
		vars = append(vars, [2]string{"HTTP_PROXY", "http_proxy"})
	}
	for _, names := range vars {
		name, v := proxyEnv(names[:]...)
		if v != "" && !proxyReadable(v) {
			return fmt.Errorf("%s: not a URL that can be read: write it as http://USER:PASSWORD@HOST:PORT or HOST:PORT, with PORT a number and an IPv6 address in brackets, and percent-encode the special characters of its user name and password (a space as %%20, # as %%23, / as %%2F, ? as %%3F, @ as %%40, %% as %%25)", name)
		}
	}
	return nil
}

// proxyEnv is the first of the variables names that is set, and its
// value, as net/http reads them; "", "" when none is.
func proxyEnv(names ...string) (name, value string) {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return n, v
		}
	}
	return "", ""
}

// proxyReadable reports whether net/http reads the proxy v as written.
func proxyReadable(v string) bool {
	u, err := url.Parse(v)
	if err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "socks5") {
		// An @ outside the login: a # or / in a password of digits that
		// still parses, as host:port with the rest for a fragment or path.
		return u.User != nil || !strings.Contains(v, "@")
	}
	if strings.Contains(v, "://") {
		// "http://" + v would read its scheme as the host.
		return false
	}
	u, err = url.Parse("http://" + v)
	return err == nil && u.Host != "" && (u.User != nil || !strings.Contains(v, "@"))
}
