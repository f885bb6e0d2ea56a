package awsconn

import (
	"context"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOrgAccountsNFC: an account renamed from a Mac, Müller spelt with u
// and a combining diaeresis, had an account_name that read as the Müller
// of a list or a tag but was another label, and another group of a split.
// Its name is put in Normalization Form C, which is no escape.
func TestOrgAccountsNFC(t *testing.T) {
	accounts := []ssmsim.Account{
		{ID: "111111111111", Name: "Mu\u0308ller"},
		{ID: "222222222222", Name: "M\u00fcller\u200b"},
	}
	org, err := ssmsim.NewOrg(ssmsim.OrgConfig{Accounts: accounts, Regions: []ssmsim.Region{{Name: "us-east-1"}}, Fleet: ssmsim.FleetConfig{Size: 1}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := orgConn(t, org, ssmsim.FieldsState).OrgAccounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Account{{ID: "111111111111", Name: "M\u00fcller"}, {ID: "222222222222", Name: `M` + "\u00fc" + `ller\u200b`, Escaped: true}}
	if !slices.Equal(got, want) {
		for _, a := range got {
			t.Errorf("got %s %+q, Escaped %v", a.ID, a.Name, a.Escaped)
		}
		t.Errorf("want %+q and %+q, Escaped", want[0].Name, want[1].Name)
	}
}
