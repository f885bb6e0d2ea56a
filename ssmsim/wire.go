package ssmsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Association is one row of DescribeInstanceAssociationsStatus: the API's
// InstanceAssociationStatusInfo, field for field. An empty string or a zero
// ExecutionDate is absent on the wire, as AWS omits unset members.
//
// Its JSON form (MarshalJSON, UnmarshalJSON) is the wire form: OutputURL is
// nested as {"OutputUrl":{"S3OutputUrl":{"OutputUrl":...}}} and ExecutionDate
// is epoch seconds. Strings must be valid UTF-8; invalid bytes go out as
// U+FFFD.
type Association struct {
	AssociationID      string    // AssociationId
	Name               string    // the document name or ARN
	DocumentVersion    string    // "$DEFAULT", "$LATEST" or "1", "2", ...
	AssociationVersion string    // "1", "2", ...
	InstanceID         string    // InstanceId
	ExecutionDate      time.Time // millisecond precision on the wire
	Status             string    // Success, Failed or Pending
	DetailedStatus     string    // Success, Failed, TimedOut, Pending, InProgress, Associated, Skipped ...
	ExecutionSummary   string    // "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. "
	ErrorCode          string    // the agent's error code (InvalidAssoc, ExecutionError, ...)
	OutputURL          string    // OutputUrl.S3OutputUrl.OutputUrl
	AssociationName    string    // AssociationName
}

// MarshalJSON encodes a in the wire form of InstanceAssociationStatusInfo.
func (a Association) MarshalJSON() ([]byte, error) {
	return appendAssociation(nil, &a), nil
}

// UnmarshalJSON decodes the wire form of InstanceAssociationStatusInfo, with
// ExecutionDate as epoch seconds (a JSON number, as the service sends it) or
// an RFC 3339 string (as the AWS CLI v2 prints it).
func (a *Association) UnmarshalJSON(b []byte) error {
	var w struct {
		AssociationID      string          `json:"AssociationId"`
		Name               string          `json:"Name"`
		DocumentVersion    string          `json:"DocumentVersion"`
		AssociationVersion string          `json:"AssociationVersion"`
		InstanceID         string          `json:"InstanceId"`
		ExecutionDate      json.RawMessage `json:"ExecutionDate"`
		Status             string          `json:"Status"`
		DetailedStatus     string          `json:"DetailedStatus"`
		ExecutionSummary   string          `json:"ExecutionSummary"`
		ErrorCode          string          `json:"ErrorCode"`
		OutputURL          *struct {
			S3OutputURL *struct {
				OutputURL string `json:"OutputUrl"`
			} `json:"S3OutputUrl"`
		} `json:"OutputUrl"`
		AssociationName string `json:"AssociationName"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t, err := parseWireTime(w.ExecutionDate)
	if err != nil {
		return fmt.Errorf("ExecutionDate: %w", err)
	}
	*a = Association{
		AssociationID:      w.AssociationID,
		Name:               w.Name,
		DocumentVersion:    w.DocumentVersion,
		AssociationVersion: w.AssociationVersion,
		InstanceID:         w.InstanceID,
		ExecutionDate:      t,
		Status:             w.Status,
		DetailedStatus:     w.DetailedStatus,
		ExecutionSummary:   w.ExecutionSummary,
		ErrorCode:          w.ErrorCode,
		AssociationName:    w.AssociationName,
	}
	if w.OutputURL != nil && w.OutputURL.S3OutputURL != nil {
		a.OutputURL = w.OutputURL.S3OutputURL.OutputURL
	}
	return nil
}

// parseWireTime reads an epoch-seconds number or an RFC 3339 string; null or
// absent is the zero time.
func parseWireTime(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		return time.Parse(time.RFC3339Nano, s)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), nil
}

// appendAssociation appends the wire form of a.
func appendAssociation(b []byte, a *Association) []byte {
	b = append(b, '{')
	first := true
	b = appendStringField(b, &first, "AssociationId", a.AssociationID)
	b = appendStringField(b, &first, "Name", a.Name)
	b = appendStringField(b, &first, "DocumentVersion", a.DocumentVersion)
	b = appendStringField(b, &first, "AssociationVersion", a.AssociationVersion)
	b = appendStringField(b, &first, "InstanceId", a.InstanceID)
	b = appendTimeField(b, &first, "ExecutionDate", a.ExecutionDate)
	b = appendStringField(b, &first, "Status", a.Status)
	b = appendStringField(b, &first, "DetailedStatus", a.DetailedStatus)
	b = appendStringField(b, &first, "ExecutionSummary", a.ExecutionSummary)
	b = appendStringField(b, &first, "ErrorCode", a.ErrorCode)
	if a.OutputURL != "" {
		b = appendKey(b, &first, "OutputUrl")
		b = append(b, `{"S3OutputUrl":{"OutputUrl":`...)
		b = appendString(b, a.OutputURL)
		b = append(b, "}}"...)
	}
	b = appendStringField(b, &first, "AssociationName", a.AssociationName)
	return append(b, '}')
}

func appendKey(b []byte, first *bool, key string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendStringField(b []byte, first *bool, key, v string) []byte {
	if v == "" {
		return b
	}
	b = appendKey(b, first, key)
	return appendString(b, v)
}

func appendTimeField(b []byte, first *bool, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = appendKey(b, first, key)
	return appendEpoch(b, t)
}

// appendEpoch appends t as epoch seconds with millisecond precision, written
// the way SSM's Java front end writes a double: 1.550505828548E9. Times before
// 1970 or so close to it that the exponent form would be odd are written as
// plain decimals.
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 1e10 { // before 1970-04-26: not a date SSM reports; keep it simple
		return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
	}
	var tmp [24]byte
	d := strconv.AppendInt(tmp[:0], ms, 10)
	exp := len(d) - 1 - 3
	for len(d) > 1 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
	}
	b = append(b, d[0], '.')
	if len(d) == 1 {
		b = append(b, '0')
	} else {
		b = append(b, d[1:]...)
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. It escapes what JSON requires
// (quote, backslash, control characters), U+2028 and U+2029, and replaces
// invalid UTF-8 with U+FFFD, as encoding/json does; it leaves <, > and &
// alone, as AWS does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
