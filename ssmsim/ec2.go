package ssmsim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const ec2Namespace = "http://ec2.amazonaws.com/doc/" + ec2Version + "/"

func ec2Error(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, key: "Message", msg: msg}
}

// describeRegions answers EC2's DescribeRegions for c's account: the
// regions it has enabled, or every region with AllRegions, narrowed by
// RegionName.N and by the filters endpoint, opt-in-status and region-name.
func (s *Server) describeRegions(b []byte, form url.Values, c *caller, requestID string) ([]byte, *apiError) {
	all := false
	if v, ok := formValue(form, "AllRegions"); ok {
		switch strings.ToLower(v) {
		case "true":
			all = true
		case "false":
		default:
			return b, ec2Error("InvalidParameterValue", "Value ("+v+") for parameter allRegions is invalid. Expected a boolean.")
		}
	}
	if v, _ := formValue(form, "DryRun"); strings.EqualFold(v, "true") {
		return b, &apiError{status: http.StatusPreconditionFailed, code: "DryRunOperation", key: "Message",
			msg: "Request would have succeeded, but DryRun flag is set."}
	}
	names := listMembers(form, "RegionName")
	type ec2Filter struct {
		name   string
		values []string
	}
	var filters []ec2Filter
	for k := 1; ; k++ {
		prefix := "Filter." + strconv.Itoa(k) + "."
		name, ok := formValue(form, prefix+"Name")
		if !ok {
			break
		}
		switch name {
		case "endpoint", "opt-in-status", "region-name":
		default:
			return b, ec2Error("InvalidParameterValue", "The filter '"+name+"' is invalid")
		}
		filters = append(filters, ec2Filter{name, listMembers(form, prefix+"Value")})
	}
	o := s.org
	for _, name := range names {
		if _, ok := o.regionIdx[name]; !ok && !o.single {
			// The wording is a guess: AWS documents no message for it.
			return b, ec2Error("InvalidParameterValue", "Invalid region name: "+name)
		}
	}

	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<DescribeRegionsResponse xmlns="`+ec2Namespace+`">`+"\n    <requestId>"...)
	b = appendXMLText(b, requestID)
	b = append(b, "</requestId>\n    <regionInfo>\n"...)
	for _, r := range o.regions {
		enabled := !r.OptIn || c.acct.enabled[r.Name]
		status := OptInNotRequired
		switch {
		case r.OptIn && enabled:
			status = OptedIn
		case r.OptIn:
			status = NotOptedIn
		}
		endpoint := "ec2." + r.Name + ".amazonaws.com"
		if !enabled && !all || len(names) > 0 && !slices.Contains(names, r.Name) {
			continue
		}
		matched := true
		for _, f := range filters {
			v := r.Name
			switch f.name {
			case "endpoint":
				v = endpoint
			case "opt-in-status":
				v = status
			}
			if !slices.Contains(f.values, v) {
				matched = false
			}
		}
		if !matched {
			continue
		}
		b = append(b, "        <item>\n            <regionName>"...)
		b = appendXMLText(b, r.Name)
		b = append(b, "</regionName>\n            <optInStatus>"...)
		b = append(b, status...)
		b = append(b, "</optInStatus>\n            <regionEndpoint>"...)
		b = appendXMLText(b, endpoint)
		b = append(b, "</regionEndpoint>\n        </item>\n"...)
	}
	return append(b, "    </regionInfo>\n</DescribeRegionsResponse>\n"...), nil
}

// listMembers returns the query protocol's list NAME.1, NAME.2, ...
func listMembers(form url.Values, name string) []string {
	var out []string
	for k := 1; ; k++ {
		v, ok := formValue(form, name+"."+strconv.Itoa(k))
		if !ok {
			return out
		}
		out = append(out, v)
	}
}
