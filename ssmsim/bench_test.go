package ssmsim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/ssmsim"
)

// discard is a ResponseWriter that keeps nothing, so that the benchmark
// measures the server and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkServeHTTP measures the handler alone on a 100,000-instance fleet:
// one page of up to 50 associations per op, instances taken in turn.
func BenchmarkServeHTTP(b *testing.B) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 100_000})
	s := ssmsim.NewServer(f, ssmsim.Options{DisablePageTracking: true})
	ids := f.ManagedIDs()
	bodies := make([]string, len(ids))
	for k, id := range ids {
		bodies[k] = `{"InstanceId":"` + id + `","MaxResults":50}`
	}
	headers := signedHeaders(ssmsim.OpDescribeInstanceAssociationsStatus)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discard{h: http.Header{}}
		k := 0
		for pb.Next() {
			r := httptest.NewRequest("POST", "/", strings.NewReader(bodies[k%len(bodies)]))
			for name, v := range headers {
				r.Header.Set(name, v)
			}
			clear(w.h)
			s.ServeHTTP(w, r)
			k++
		}
	})
	if st := s.Stats(); st.OK != st.Requests {
		b.Fatalf("%d of %d requests not OK", st.Requests-st.OK, st.Requests)
	}
}

// BenchmarkSDKLoopback measures one SDK call over loopback HTTP, client
// included: the ceiling a benchmark of the auditor can reach on this
// machine.
func BenchmarkSDKLoopback(b *testing.B) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 10_000})
	s := ssmsim.NewServer(f, ssmsim.Options{DisablePageTracking: true})
	url, stop, err := s.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	c := client(url, testKey)
	ids := f.ManagedIDs()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		k := 0
		for pb.Next() {
			_, err := c.DescribeInstanceAssociationsStatus(context.Background(), &ssm.DescribeInstanceAssociationsStatusInput{
				InstanceId: aws.String(ids[k%len(ids)]),
			})
			if err != nil {
				b.Error(err)
				return
			}
			k++
		}
	})
}
