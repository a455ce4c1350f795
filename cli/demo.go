package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/manager"
)

// demoDomain is the demo Smart Account; its presence means the database
// was seeded before.
const demoDomain = "acme.example"

// seedDemo fills an empty database with a vendor catalogue, a Smart Account
// with a small VA tree, deposits, a token and registered instances, then
// prints an operator key. Instances register through the real device
// protocol at url, exactly as products would.
func seedDemo(ctx context.Context, e *env, mgr *manager.Manager, url string) error {
	_, key, err := mgr.CreateOperator(ctx, "demo-operator@acme.example")
	if err != nil {
		return err
	}
	op := smartlic.WithActor(ctx, smartlic.Actor{Email: "demo-operator@acme.example", Role: smartlic.RoleOperator})
	if _, err := mgr.GetSmartAccount(op, demoDomain); err == nil {
		fmt.Fprintf(e.stdout, "\nDemo data already present (Smart Account %s).\n", demoDomain)
		printDemoUsers(e, url, key)
		printDemoKey(e, url, key, "")
		return nil
	} else if smartlic.ErrorCode(err) != smartlic.ENotFound {
		return err
	}
	token, err := seedDemoAccount(op, mgr)
	if err != nil {
		return err
	}
	if err := seedDemoUsers(op, mgr); err != nil {
		return err
	}
	n, err := registerDemoInstances(ctx, url, token, mgr.Clock())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nSeeded demo data: Smart Account %s, 6 Virtual Accounts, %d registered instances.\n", demoDomain, n)
	printDemoUsers(e, url, key)
	printDemoKey(e, url, key, token)
	return nil
}

// demoPassword is every demo user's password: the demo is for trying each
// role on one's own machine, and the README's tour names it.
const demoPassword = "smartlic-demo"

// demoUsers hold one of each of the five roles in the demo Smart Account.
var demoUsers = []struct {
	email, name, role, va string
}{
	{"approver@acme.example", "Avery Approver", smartlic.RoleSAApprover, ""},
	{"admin@acme.example", "Sam Admin", smartlic.RoleSAAdmin, ""},
	{"user@acme.example", "Uma User", smartlic.RoleSAUser, ""},
	{"campus-admin@acme.example", "Casey Campus", smartlic.RoleVAAdmin, "Campus"},
	{"lab-user@acme.example", "Lee Lab", smartlic.RoleVAUser, "Lab"},
}

// seedDemoUsers creates the demo users and grants their roles.
func seedDemoUsers(ctx context.Context, mgr *manager.Manager) error {
	for _, u := range demoUsers {
		if _, err := mgr.CreateUser(ctx, smartlic.UserInput{Email: u.email, Name: u.name, Password: demoPassword}); err != nil {
			return fmt.Errorf("demo user %s: %w", u.email, err)
		}
		if _, err := mgr.GrantRole(ctx, demoDomain, smartlic.RoleInput{User: u.email, Role: u.role, VA: u.va}); err != nil {
			return fmt.Errorf("demo role of %s: %w", u.email, err)
		}
	}
	return nil
}

// printDemoUsers tells who can sign in to the portal.
func printDemoUsers(e *env, url, key string) {
	fmt.Fprintf(e.stdout, "\nPortal: open %s/ and sign in as one of (password %q):\n", url, demoPassword)
	for _, u := range demoUsers {
		where := "all of " + demoDomain
		if u.va != "" {
			where = "Virtual Account " + u.va + " and below"
		}
		fmt.Fprintf(e.stdout, "  %-28s %-12s %s\n", u.email, u.role, where)
	}
	fmt.Fprintf(e.stdout, "  %-28s %-12s password: the operator API key below\n", "demo-operator@acme.example", smartlic.RoleOperator)
}

func printDemoKey(e *env, url, key, token string) {
	fmt.Fprintf(e.stdout, "\nOperator API key (shown once):\n  %s\n\nTry:\n", key)
	fmt.Fprintf(e.stdout, "  export SMARTLIC_SERVER=%s SMARTLIC_API_KEY=%s SMARTLIC_ACCOUNT=%s\n", url, key, demoDomain)
	fmt.Fprintf(e.stdout, "  smartlic license list\n  smartlic va list\n  smartlic instance list --va \"Building A\"\n")
	if token != "" {
		fmt.Fprintf(e.stdout, "\nRegistration token for Virtual Account \"Building A\" (30 days, shown once):\n  %s\n", token)
	}
}

// demoInstances are the simulated switches the demo registers, and what
// each one uses. Building A ends up over-consumed on purpose, so the demo
// shows an insufficient pool next to compliant ones.
var demoInstances = []struct {
	sn, hostname string
	usage        map[string]int64
}{
	{"FOC2301A001", "bldg-a-sw1", map[string]int64{"network-advantage": 1, "dna-advantage": 1}},
	{"FOC2301A002", "bldg-a-sw2", map[string]int64{"network-advantage": 1, "dna-advantage": 1}},
	{"FOC2301A003", "bldg-a-sw3", map[string]int64{"network-advantage": 1, "dna-advantage": 1}},
	{"FOC2301A004", "bldg-a-sw4", map[string]int64{"network-advantage": 1, "dna-advantage": 1}},
	{"FOC2301A005", "bldg-a-sw5", map[string]int64{"network-advantage": 1}},
	{"FOC2301A006", "bldg-a-core", map[string]int64{"network-essentials": 1, "hseck9": 1}},
}

func seedDemoAccount(ctx context.Context, mgr *manager.Manager) (string, error) {
	for _, lt := range []smartlic.LicenseType{
		{Tag: "network-essentials", Name: "Network Essentials", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, Description: "Base switching and routing features"},
		{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced, Description: "Advanced switching and routing features"},
		{Tag: "dna-advantage", Name: "DNA Advantage", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced, Description: "Automation and assurance"},
		{Tag: "hseck9", Name: "HSECK9 strong encryption", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled, Description: "Throughput above 250 Mbps for encrypted traffic"},
		{Tag: "ise-base", Name: "ISE Base", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced},
		{Tag: "ise-plus", Name: "ISE Plus", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced},
		{Tag: "threat-defense", Name: "Threat Defense", Term: smartlic.TermSubscription, Enforcement: smartlic.Enforced},
	} {
		if _, err := mgr.CreateLicenseType(ctx, lt); err != nil {
			return "", err
		}
	}
	for _, p := range []smartlic.Product{
		{PID: "C9300-24T", Name: "Catalyst 9300 24-port switch", LicenseTypes: []string{"network-essentials", "network-advantage", "dna-advantage", "hseck9"}},
		{PID: "ISR4451-X", Name: "ISR 4451 router", LicenseTypes: []string{"network-essentials", "network-advantage", "hseck9", "threat-defense"}},
		{PID: "ISE-VM-K9", Name: "Identity Services Engine VM", LicenseTypes: []string{"ise-base", "ise-plus"}},
	} {
		if _, err := mgr.CreateProduct(ctx, p); err != nil {
			return "", err
		}
	}
	sa, err := mgr.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme Corporation", Domain: demoDomain, Status: smartlic.SAActive})
	if err != nil {
		return "", err
	}
	for _, va := range []smartlic.VirtualAccountInput{
		{Name: "Campus", Description: "Headquarters campus"},
		{Name: "Building A", Description: "Main office building", Parent: "Campus"},
		{Name: "Building B", Description: "Warehouse", Parent: "Campus"},
		{Name: "Datacenter", Description: "Primary datacenter"},
		{Name: "Lab", Description: "Engineering lab"},
	} {
		if _, err := mgr.CreateVirtualAccount(ctx, sa.Domain, va); err != nil {
			return "", err
		}
	}
	now := mgr.Clock().Now()
	year := now.AddDate(1, 0, 0)
	soon := now.Add(60 * smartlic.Day)
	for _, d := range []struct {
		va string
		in smartlic.DepositInput
	}{
		{"Building A", smartlic.DepositInput{OrderNumber: "SO-100231", License: "network-advantage", Quantity: 4, EndsAt: &year}},
		{"Building A", smartlic.DepositInput{OrderNumber: "SO-100231", License: "dna-advantage", Quantity: 10, EndsAt: &year}},
		{"Building A", smartlic.DepositInput{OrderNumber: "SO-100232", License: "network-essentials", Quantity: 10}},
		{"Building A", smartlic.DepositInput{OrderNumber: "SO-100232", License: "hseck9", Quantity: 2}},
		{"Campus", smartlic.DepositInput{OrderNumber: "SO-100240", License: "network-advantage", Quantity: 20, EndsAt: &year}},
		{"Building B", smartlic.DepositInput{OrderNumber: "SO-100241", License: "network-essentials", Quantity: 5}},
		{"Datacenter", smartlic.DepositInput{OrderNumber: "SO-100250", License: "ise-base", Quantity: 100}},
		{"Datacenter", smartlic.DepositInput{OrderNumber: "SO-100250", License: "ise-plus", Quantity: 50, EndsAt: &soon}},
		{"Datacenter", smartlic.DepositInput{OrderNumber: "SO-100251", License: "threat-defense", Quantity: 2, EndsAt: &year}},
	} {
		if _, err := mgr.CreateDeposit(ctx, sa.Domain, d.va, d.in); err != nil {
			return "", err
		}
	}
	tok, err := mgr.CreateToken(ctx, sa.Domain, "Building A", smartlic.TokenInput{
		Description: "demo: Building A switches", ExpiresInDays: 30, AllowExportControlled: true,
	})
	if err != nil {
		return "", err
	}
	return tok.Secret, nil
}

// demoTimeout bounds the demo registrations so a broken server cannot hang
// start-up.
const demoTimeout = 30 * time.Second

// registerDemoInstances registers the demo switches through the device
// protocol at url with the agent library, and reports their usage.
func registerDemoInstances(ctx context.Context, url, token string, clock smartlic.Clock) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	for _, d := range demoInstances {
		a, err := agent.New(agent.Options{
			Server: url, Store: agent.MemoryState(), Clock: clock, // the server's, moved or not
			UDI: smartlic.UDI{PID: "C9300-24T", SN: d.sn}, Hostname: d.hostname,
		})
		if err != nil {
			return 0, err
		}
		if err := a.Register(ctx, token, false); err != nil {
			return 0, fmt.Errorf("register %s: %w", d.sn, err)
		}
		for tag, n := range d.usage {
			if err := a.SetUsage(tag, n); err != nil {
				return 0, err
			}
		}
		if err := a.Authorize(ctx); err != nil {
			return 0, fmt.Errorf("authorize %s: %w", d.sn, err)
		}
	}
	return len(demoInstances), nil
}
