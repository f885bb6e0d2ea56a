package awsconn_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestIdlePoolHoldsConns: Settings.Conns calls in flight at once, in
// waves, one host, dial Conns connections in all: each wave's connections
// wait in the pool for the next, where a pool sized for fewer closed the
// rest after every call and the next wave dialled (on AWS, shook hands)
// anew. The workers of an organisation's account-regions, paced apart, are
// such waves.
func TestIdlePoolHoldsConns(t *testing.T) {
	const conns, waves = 96, 5
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 2, Size: conns, BaseTime: time.Now()})
	srv := ssmsim.NewServer(fleet, ssmsim.Options{Faults: ssmsim.Faults{Latency: 10 * time.Millisecond}})
	url, stop, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	conn, err := awsconn.Load(context.Background(), awsconn.Settings{
		Region: "us-east-1", EndpointURL: url, Conns: conns,
		Credentials: credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "secret", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := conn.SSMIn("", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := bytes.Fields(b.Bytes())
	for range waves {
		var wg sync.WaitGroup
		for _, id := range ids[:conns] {
			wg.Go(func() {
				// An unmanaged node's answer, an error, keeps its
				// connection as any other.
				client.DescribeInstanceAssociationsStatus(context.Background(),
					&ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(string(id))})
			})
		}
		wg.Wait()
	}
	st := srv.Stats()
	t.Logf("%d requests over %d connections", st.Requests, st.Connections)
	if st.Requests != waves*conns {
		t.Fatalf("%d requests, want %d", st.Requests, waves*conns)
	}
	if st.Connections > conns+conns/10 {
		t.Errorf("%d connections for %d waves of %d calls, want about %d: the pool does not keep what is in flight", st.Connections, waves, conns, conns)
	}
}
