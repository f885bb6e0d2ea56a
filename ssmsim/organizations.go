package ssmsim

import (
	"encoding/json"
	"net/http"
)

// DefaultAccountsMaxResults is the page size of ListAccounts without
// MaxResults. AWS does not document it; 20 is its maximum.
const DefaultAccountsMaxResults = 20

const orgAccessDenied = "You don't have permissions to access this resource."

// orgInvalidInput is Organizations' InvalidInputException, whose Reason
// says which rule the input broke.
func orgInvalidInput(reason, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidInputException", key: "Message", msg: msg, reason: reason}
}

// listAccounts answers Organizations' ListAccounts: every account of the
// organisation, in its order, to the management account only, with the
// lifecycle fields of Options.AccountFields.
func (s *Server) listAccounts(b []byte, req map[string]json.RawMessage, c *caller) ([]byte, *apiError) {
	max, hasMax, e := readInt(req, "MaxResults")
	if e != nil {
		return b, e
	}
	token, _, e := readString(req, "NextToken")
	if e != nil {
		return b, e
	}
	o := s.org
	switch {
	case o.notInOrg:
		return b, &apiError{status: http.StatusBadRequest, code: "AWSOrganizationsNotInUseException", key: "Message",
			msg: "Your account is not a member of an organization."}
	case c.acct != o.accounts[0]:
		return b, clientError("AccessDeniedException", "Message", orgAccessDenied)
	}
	switch {
	case !hasMax:
		max = DefaultAccountsMaxResults
	case max < 1:
		return b, orgInvalidInput("MIN_VALUE_EXCEEDED", "You provided a value that is less than the minimum allowed.")
	case max > 20:
		return b, orgInvalidInput("MAX_VALUE_EXCEEDED", "You provided a value that exceeds the maximum allowed.")
	}
	off := 0
	if token != "" {
		var ok bool
		if off, ok = s.tokens.open(opListAccounts, o.id, token); !ok || off >= len(o.accounts) {
			return b, orgInvalidInput("INVALID_NEXT_TOKEN",
				"You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.")
		}
	}
	end := min(off+max, len(o.accounts))
	b = append(b, `{"Accounts":[`...)
	for k, oa := range o.accounts[off:end] {
		if k > 0 {
			b = append(b, ',')
		}
		first := true
		b = append(b, '{')
		b = appendStringField(b, &first, "Id", oa.ID)
		b = appendStringField(b, &first, "Arn", "arn:"+o.partition+":organizations::"+o.Management()+":account/"+o.id+"/"+oa.ID)
		b = appendStringField(b, &first, "Email", oa.Email)
		b = appendStringField(b, &first, "Name", oa.Name)
		if s.fields != FieldsStatus {
			b = appendStringField(b, &first, "State", oa.State)
		}
		if s.fields != FieldsState {
			b = appendStringField(b, &first, "Status", oa.Status)
		}
		b = appendStringField(b, &first, "JoinedMethod", oa.JoinedMethod)
		b = appendTimeField(b, &first, "JoinedTimestamp", oa.JoinedTimestamp)
		b = append(b, '}')
	}
	b = append(b, ']')
	if end < len(o.accounts) {
		b = append(b, `,"NextToken":`...)
		b = appendString(b, s.tokens.seal(opListAccounts, o.id, end))
	}
	return append(b, '}'), nil
}
