package cli

import (
	"testing"
)

// TestReadAccountsNFC: an account's name in an --accounts file is read in
// Unicode Normalization Form C, as a list's labels and Organizations'
// names are: written on a Mac (a combining diaeresis) it was another
// account_name than the same name typed elsewhere, and two lines naming
// one account so refused the file as two names.
func TestReadAccountsNFC(t *testing.T) {
	path := writeFile(t, "accounts.csv", "111111111111,Mu\u0308ller\n111111111111,M\u00fcller\n")
	got, err := readAccounts(path)
	if err != nil {
		t.Fatalf("readAccounts: %v", err)
	}
	if len(got) != 1 || got[0].Name != "M\u00fcller" {
		t.Errorf("accounts %+v, want one named %q", got, "M\u00fcller")
	}
}
