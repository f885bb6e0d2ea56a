package smtptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Mail is a message parsed as a mail reader would: its header, and its
// leaf parts decoded.
type Mail struct {
	Header mail.Header
	// Subject is the Subject header, its encoded words decoded.
	Subject string
	// Containers are the media types of the multipart containers, in the
	// order they open ("multipart/mixed", "multipart/alternative").
	Containers []string
	// Parts are the leaf parts, in order.
	Parts []Part
}

// Part is one leaf part of a Mail.
type Part struct {
	// ContentType is the media type, lower case ("text/html"); Params are
	// its parameters ("charset").
	ContentType string
	Params      map[string]string
	// Disposition ("attachment", "inline" or empty) and its Filename.
	Disposition, Filename string
	// Body is decoded from quoted-printable or base64.
	Body []byte
}

// Part returns the first part of media type ct that is not an attachment,
// or nil.
func (m *Mail) Part(ct string) *Part {
	for i, p := range m.Parts {
		if p.ContentType == ct && p.Disposition != "attachment" {
			return &m.Parts[i]
		}
	}
	return nil
}

// Attachments returns the parts that are attachments, in order.
func (m *Mail) Attachments() []Part {
	var out []Part
	for _, p := range m.Parts {
		if p.Disposition == "attachment" {
			out = append(out, p)
		}
	}
	return out
}

// Parse parses raw (RFC 5322 with MIME) with net/mail and mime/multipart.
func Parse(raw []byte) (*Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("reading the message: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return nil, fmt.Errorf("decoding the subject: %w", err)
	}
	m := &Mail{Header: msg.Header, Subject: subject}
	if err := m.walk(msg.Header, msg.Body); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mail) walk(h mail.Header, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("content type %q: %w", h.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		m.Containers = append(m.Containers, mt)
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading a part of %s: %w", mt, err)
			}
			if err := m.walk(mail.Header(p.Header), p); err != nil {
				return err
			}
		}
	}
	r := body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("decoding a %s part: %w", mt, err)
	}
	p := Part{ContentType: mt, Params: params, Body: b}
	if d := h.Get("Content-Disposition"); d != "" {
		disp, dp, err := mime.ParseMediaType(d)
		if err != nil {
			return fmt.Errorf("content disposition %q: %w", d, err)
		}
		p.Disposition, p.Filename = disp, dp["filename"]
	}
	m.Parts = append(m.Parts, p)
	return nil
}
