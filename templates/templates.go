// Package templates holds the HTML templates of the reports, embedded in the
// binary so that it needs no files beside it.
package templates

import "embed"

// FS holds every *.tmpl file of this folder.
//
//go:embed *.tmpl
var FS embed.FS
