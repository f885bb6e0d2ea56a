package cli

import (
	"os"
	"sync"
)

// secretEnv holds the secrets HideSecrets took out of the environment.
var secretEnv struct {
	sync.Mutex
	m map[string]string
}

// HideSecrets takes the SMTP password out of the process's environment and
// keeps it for the delivery alone, so that no process the auditor starts
// (an AWS credential_process, a profile's helper) inherits it. package main
// calls it once, first.
func HideSecrets() {
	secretEnv.Lock()
	defer secretEnv.Unlock()
	for _, k := range []string{envSMTPPassword} {
		if v, ok := os.LookupEnv(k); ok {
			if secretEnv.m == nil {
				secretEnv.m = map[string]string{}
			}
			secretEnv.m[k] = v
			os.Unsetenv(k)
		}
	}
}

// getenv is os.Getenv, with the secrets HideSecrets kept.
func getenv(k string) string {
	secretEnv.Lock()
	v, ok := secretEnv.m[k]
	secretEnv.Unlock()
	if ok {
		return v
	}
	return os.Getenv(k)
}
