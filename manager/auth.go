package manager

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// apiKeyPrefix marks smartlic API keys.
const apiKeyPrefix = "slk_"

// lastUsedGranularity bounds how often a key's last-used time is written:
// every request writing a row would make reads cost a write.
const lastUsedGranularity = time.Minute

// Authenticate resolves an API key to its actor.
// Operator keys (slk_), personal API keys (slu_) and OAuth access tokens
// (slo_) are all looked up by their SHA-256.
func (m *Manager) Authenticate(ctx context.Context, apiKey string) (smartlic.Actor, error) {
	if len(apiKey) > maxCredentialBytes {
		return smartlic.Actor{}, errCredentials("API key too long")
	}
	switch {
	case strings.HasPrefix(apiKey, userKeyPrefix):
		return m.authenticateUserKey(ctx, apiKey)
	case strings.HasPrefix(apiKey, oauthTokenPrefix):
		return m.authenticateOAuthToken(ctx, apiKey)
	}
	if !strings.HasPrefix(apiKey, apiKeyPrefix) {
		return smartlic.Actor{}, errCredentials("unknown API key prefix")
	}
	var k smartlic.APIKey
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		k, err = tx.GetAPIKeyByHash(ctx, hashSecret(apiKey))
		return err
	})
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.Actor{}, errCredentials("unknown operator key")
	}
	if err != nil {
		return smartlic.Actor{}, err
	}
	now := m.clock.Now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= lastUsedGranularity {
		err := m.st.Write(ctx, func(tx smartlic.Tx) error { return tx.TouchAPIKey(ctx, k.ID, now) })
		if err != nil {
			return smartlic.Actor{}, err
		}
	}
	return smartlic.Actor{KeyID: k.ID, Email: k.Email, Role: k.Role, Kind: smartlic.ActorOperatorKey}, nil
}

// errCredentials refuses a credential without telling the caller why:
// whether a key exists, was revoked or expired, or belongs to a disabled
// user would tell a thief which stolen keys are worth keeping. The reason
// is the error's cause, which the HTTP layer logs and never answers.
func errCredentials(reason string) error {
	return &smartlic.Error{Code: smartlic.EUnauthorized, Message: "invalid credentials", Err: errors.New(reason)}
}

// CreateOperator makes an operator API key. The secret is returned once and
// only its hash is kept.
func (m *Manager) CreateOperator(ctx context.Context, email string) (smartlic.APIKey, string, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return smartlic.APIKey{}, "", smartlic.Invalid("email", "must be a plain e-mail address such as ops@example.com (got %q)", email)
	}
	secret, err := newSecret(apiKeyPrefix)
	if err != nil {
		return smartlic.APIKey{}, "", err
	}
	k := smartlic.APIKey{ID: newID(), Email: email, Role: smartlic.RoleOperator, Hash: hashSecret(secret), CreatedAt: m.clock.Now()}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "operator_key.created", Subject: k.ID, Message: "operator API key created for " + k.Email, After: eventData(k)})
	})
	if err != nil {
		return smartlic.APIKey{}, "", err
	}
	return k, secret, nil
}
