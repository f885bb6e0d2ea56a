package ssmsim

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxTagsPerResource bounds a resource's tags (AWS allows 50); a
// DescribeTags offset is a fleet position times it plus a tag's index.
const maxTagsPerResource = 64

// maxFilterValues is how many filter values EC2 takes in one call, all of
// its filters together; more is FilterLimitExceeded.
const maxFilterValues = 200

// describeTags answers EC2's DescribeTags for c's account in region: the
// tags of its EC2 instances (i-; hybrid mi- nodes are not EC2's), one item
// per tag, in the order of the fleet and of the keys, narrowed by the
// filters key, value, resource-id, resource-type and tag:KEY (values OR
// within a filter, filters AND; at most maxFilterValues values in all),
// MaxResults 5 to 1000 a page (without it, every tag at once) and
// NextToken.
func (s *Server) describeTags(b []byte, form url.Values, c *caller, region, requestID string) ([]byte, *apiError) {
	if v, _ := formValue(form, "DryRun"); strings.EqualFold(v, "true") {
		return b, &apiError{status: 412, code: "DryRunOperation", key: "Message",
			msg: "Request would have succeeded, but DryRun flag is set."}
	}
	type tagFilter struct {
		name   string
		values []string
	}
	var filters []tagFilter
	values := 0
	subject := c.acct.ID + "/" + region + " "
	for k := 1; ; k++ {
		prefix := "Filter." + strconv.Itoa(k) + "."
		name, ok := formValue(form, prefix+"Name")
		if !ok {
			break
		}
		switch {
		case name == "key", name == "value", name == "resource-id", name == "resource-type":
		case strings.HasPrefix(name, "tag:") && len(name) > len("tag:"):
		default:
			return b, ec2Error("InvalidParameterValue", "The filter '"+name+"' is invalid")
		}
		vals := listMembers(form, prefix+"Value")
		filters = append(filters, tagFilter{name, vals})
		values += len(vals)
		subject += strconv.Quote(name) + "=" + quoteAll(vals) + ";"
	}
	if values > maxFilterValues {
		return b, ec2Error("FilterLimitExceeded", "The maximum number of filter values specified on a single call is "+strconv.Itoa(maxFilterValues))
	}
	max := -1
	if v, ok := formValue(form, "MaxResults"); ok {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return b, ec2Error("InvalidParameterValue", "Value ("+v+") for parameter maxResults is invalid. Expected an integer.")
		case n < 5 || n > 1000:
			return b, ec2Error("InvalidParameterValue", "Value ( "+v+" ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.")
		}
		max = n
	}
	f := s.org.fleet(c.acct, region)
	off := 0
	if tok, ok := formValue(form, "NextToken"); ok && tok != "" {
		if off, ok = s.tokens.open(opDescribeTags, subject, tok); !ok || off >= len(f.ids)*maxTagsPerResource {
			return b, ec2Error("InvalidParameterValue", "The nextToken provided is invalid")
		}
	}
	// match reports whether a filter takes value v (EC2's filters match
	// exactly; * and ? wildcards are not modelled).
	match := func(vals []string, v string) bool { return slices.Contains(vals, v) }

	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<DescribeTagsResponse xmlns="`+ec2Namespace+`">`+"\n    <requestId>"...)
	b = appendXMLText(b, requestID)
	b = append(b, "</requestId>\n    <tagSet>\n"...)
	n, next := 0, -1
scan:
	for i := off / maxTagsPerResource; i < len(f.ids); i++ {
		id := f.ids[i]
		if !strings.HasPrefix(id, "i-") {
			continue
		}
		tags := f.instance(i, false).Tags
		keys := slices.Sorted(maps.Keys(tags))
		resourceOK := true
		for _, fl := range filters {
			switch {
			case fl.name == "resource-id":
				resourceOK = resourceOK && match(fl.values, id)
			case fl.name == "resource-type":
				resourceOK = resourceOK && match(fl.values, "instance")
			case strings.HasPrefix(fl.name, "tag:"):
				v, ok := tags[fl.name[len("tag:"):]]
				resourceOK = resourceOK && ok && match(fl.values, v)
			}
		}
		if !resourceOK {
			continue
		}
		for k, key := range keys {
			pos := i*maxTagsPerResource + k
			if pos < off || k >= maxTagsPerResource {
				continue
			}
			ok := true
			for _, fl := range filters {
				switch fl.name {
				case "key":
					ok = ok && match(fl.values, key)
				case "value":
					ok = ok && match(fl.values, tags[key])
				}
			}
			if !ok {
				continue
			}
			if n == max {
				next = pos
				break scan
			}
			b = append(b, "        <item>\n            <resourceId>"...)
			b = appendXMLText(b, id)
			b = append(b, "</resourceId>\n            <resourceType>instance</resourceType>\n            <key>"...)
			b = appendXMLText(b, key)
			b = append(b, "</key>\n            <value>"...)
			b = appendXMLText(b, tags[key])
			b = append(b, "</value>\n        </item>\n"...)
			n++
		}
	}
	b = append(b, "    </tagSet>\n"...)
	if next >= 0 {
		b = append(b, "    <nextToken>"...)
		b = appendXMLText(b, s.tokens.seal(opDescribeTags, subject, next))
		b = append(b, "</nextToken>\n"...)
	}
	return append(b, "</DescribeTagsResponse>\n"...), nil
}

// tagResourceTypes are ListTagsForResource's ResourceType values.
var tagResourceTypes = []string{"Document", "ManagedInstance", "MaintenanceWindow", "Parameter", "PatchBaseline",
	"OpsItem", "OpsMetadata", "Automation", "Association"}

// listTagsForResource answers SSM's ListTagsForResource for a hybrid
// managed node (ResourceType ManagedInstance, an mi- ID of c's account in
// region): its tags, sorted by key. The simulator holds no other tagged
// resource: any other is InvalidResourceId, as an unknown one is in AWS.
func (s *Server) listTagsForResource(b []byte, req map[string]json.RawMessage, c *caller, region string) ([]byte, *apiError) {
	typ, hasType, e := readString(req, "ResourceType")
	if e != nil {
		return b, e
	}
	id, hasID, e := readString(req, "ResourceId")
	if e != nil {
		return b, e
	}
	var v validation
	switch {
	case !hasType:
		v.add("Value null at 'resourceType' failed to satisfy constraint: Member must not be null")
	case !slices.Contains(tagResourceTypes, typ):
		v.add("Value '%s' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [%s]", typ, strings.Join(tagResourceTypes, ", "))
	}
	if !hasID {
		v.add("Value null at 'resourceId' failed to satisfy constraint: Member must not be null")
	}
	if e := v.err(); e != nil {
		return b, e
	}
	errID := clientError("InvalidResourceId", "Message", "The resource ID \""+id+"\" is not valid. Verify the ID and try again.")
	if typ != "ManagedInstance" || !strings.HasPrefix(id, "mi-") || !validInstanceID(id) {
		return b, errID
	}
	f := s.org.fleet(c.acct, region)
	i, ok := f.lookup(id)
	if !ok || f.flags[i]&flagUnmanaged != 0 {
		return b, errID
	}
	tags := f.instance(i, false).Tags
	b = append(b, `{"TagList":[`...)
	for k, key := range slices.Sorted(maps.Keys(tags)) {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Key":`...)
		b = appendString(b, key)
		b = append(b, `,"Value":`...)
		b = appendString(b, tags[key])
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}
