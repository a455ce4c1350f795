package wire

import "github.com/smartlic/smartlic"

// NotificationPreferenceRequest sets a recipient's preference; the e-mail
// is in the path.
type NotificationPreferenceRequest struct {
	AlertTypes      []smartlic.AlertType `json:"alert_types,omitempty" maxItems:"20" doc:"Alert types to receive (e.g. license.insufficient); empty: every type"`
	VirtualAccounts []string             `json:"virtual_accounts,omitempty" maxItems:"100" doc:"Virtual Accounts (id or name) whose subtrees to watch; empty: the whole Smart Account"`
	Frequency       smartlic.Frequency   `json:"frequency" enum:"immediate,daily,weekly" doc:"immediate: an e-mail per new alert; daily or weekly: a summary of current alerts"`
}

// Input returns the service input for the recipient email.
func (r NotificationPreferenceRequest) Input(email string) smartlic.NotificationPreferenceInput {
	return smartlic.NotificationPreferenceInput{Email: email, AlertTypes: r.AlertTypes, VirtualAccounts: r.VirtualAccounts, Frequency: r.Frequency}
}

// FromNotificationPreferenceInput is the request body of in.
func FromNotificationPreferenceInput(in smartlic.NotificationPreferenceInput) NotificationPreferenceRequest {
	return NotificationPreferenceRequest{AlertTypes: in.AlertTypes, VirtualAccounts: in.VirtualAccounts, Frequency: in.Frequency}
}

// WebhookRequest creates a webhook.
type WebhookRequest struct {
	URL         string               `json:"url" minLength:"1" maxLength:"2000" doc:"The endpoint deliveries are POSTed to (http:// or https://)"`
	Description string               `json:"description,omitempty" maxLength:"500"`
	AlertTypes  []smartlic.AlertType `json:"alert_types,omitempty" maxItems:"20" doc:"Alert types to deliver; empty: every type"`
}

// Input returns the service input.
func (r WebhookRequest) Input() smartlic.WebhookInput {
	return smartlic.WebhookInput{URL: r.URL, Description: r.Description, AlertTypes: r.AlertTypes}
}

// FromWebhookInput is the request body of in.
func FromWebhookInput(in smartlic.WebhookInput) WebhookRequest {
	return WebhookRequest{URL: in.URL, Description: in.Description, AlertTypes: in.AlertTypes}
}
