package deliver_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/auditor-dev/auditor/deliver"
)

// TestUploadCancelledMidwayAborts: a signal (ctx cancelled) while the parts
// of a multipart upload went left the upload in the bucket, its parts
// billed: the transfer manager aborted it with the context just cancelled,
// so AbortMultipartUpload was never sent, and the error did not wrap the
// context's, so the caller told it as S3's failure. The abort is sent, and
// the error wraps ctx's. An abort that S3 refuses comes back as an
// *deliver.IncompleteUploadError naming the upload, so that it can be
// aborted by hand.
func TestUploadCancelledMidwayAborts(t *testing.T) {
	for _, tt := range []struct {
		name        string
		refuseAbort bool
		gone        bool // the abort finds no upload: S3 ended it (completed)
	}{
		{name: "aborted"},
		{name: "abort refused", refuseAbort: true},
		{name: "upload gone", gone: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			big := writeFile(t, t.TempDir(), "results.jsonl", 3*deliver.MinPartSize)
			backend := s3mem.New()
			if err := backend.CreateBucket("reports"); err != nil {
				t.Fatal(err)
			}
			fake := gofakes3.New(backend).Server()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			var mu sync.Mutex
			var aborts []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				switch {
				case r.Method == http.MethodPut && q.Has("partNumber"):
					// The signal comes while the parts go; S3 has
					// not answered yet.
					io.Copy(io.Discard, r.Body)
					cancel()
					select {
					case <-r.Context().Done():
					case <-stop:
					}
					return
				case r.Method == http.MethodDelete && q.Has("uploadId"):
					mu.Lock()
					aborts = append(aborts, q.Get("uploadId"))
					mu.Unlock()
					if tt.gone {
						w.Header().Set("Content-Type", "application/xml")
						w.WriteHeader(http.StatusNotFound)
						w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><RequestId>1</RequestId></Error>`))
						return
					}
					if tt.refuseAbort {
						w.Header().Set("Content-Type", "application/xml")
						w.WriteHeader(http.StatusForbidden)
						w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`))
						return
					}
				}
				fake.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(stop) }) // before srv.Close
			client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})

			_, err := deliver.Upload(ctx, client, "s3://reports/big/", []string{big}, deliver.UploadOptions{PartSize: deliver.MinPartSize})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Upload = %v, want an error that wraps context.Canceled", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(aborts) != 1 || aborts[0] == "" {
				t.Fatalf("AbortMultipartUpload sent for %q, want once for the upload", aborts)
			}
			var ie *deliver.IncompleteUploadError
			switch {
			case tt.refuseAbort && !errors.As(err, &ie):
				t.Errorf("Upload = %v, want an *IncompleteUploadError", err)
			case tt.refuseAbort && (ie.Bucket != "reports" || ie.Key != "big/results.jsonl" || ie.UploadID != aborts[0]):
				t.Errorf("IncompleteUploadError = %+v, want reports, big/results.jsonl, %s", ie, aborts[0])
			case tt.refuseAbort && !strings.Contains(err.Error(), aborts[0]):
				t.Errorf("Upload = %v, want the upload ID named", err)
			case !tt.refuseAbort && errors.As(err, &ie):
				t.Errorf("Upload = %v: an aborted upload is not left incomplete", err)
			}
		})
	}
}
