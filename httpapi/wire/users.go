package wire

import "github.com/smartlic/smartlic"

// UserRequest creates a user.
type UserRequest struct {
	Email    string `json:"email" minLength:"3" maxLength:"254"`
	Name     string `json:"name" minLength:"1" maxLength:"200"`
	Password string `json:"password" minLength:"12" maxLength:"256" doc:"At least 12 characters; stored as an argon2id hash"`
}

// RoleRequest grants a role in a Smart Account.
type RoleRequest struct {
	User string `json:"user" minLength:"1" doc:"User id or e-mail"`
	Role string `json:"role" enum:"sa_approver,sa_admin,sa_user,va_admin,va_user"`
	VA   string `json:"va,omitempty" doc:"Virtual Account id or name; required for va_admin and va_user, refused otherwise"`
}

// AccessRequestRequest asks for access to a Smart Account.
type AccessRequestRequest struct {
	Message string `json:"message,omitempty" maxLength:"2000"`
}

// ApproveRequest approves an access request with the role to grant.
type ApproveRequest struct {
	Role string `json:"role" enum:"sa_approver,sa_admin,sa_user,va_admin,va_user"`
	VA   string `json:"va,omitempty" doc:"Virtual Account id or name, for va_admin and va_user"`
}

// APIKeyRequest creates a personal API key.
type APIKeyRequest struct {
	Name          string `json:"name" minLength:"1" maxLength:"200"`
	ExpiresInDays int    `json:"expires_in_days,omitempty" minimum:"0" maximum:"365" doc:"0 or absent: no expiry"`
}

// OAuthClientRequest creates an OAuth 2.0 client-credentials client.
type OAuthClientRequest struct {
	Name   string   `json:"name" minLength:"1" maxLength:"200"`
	Role   string   `json:"role,omitempty" doc:"What the client acts as: sa_user (default), sa_admin or sa_approver for a Smart Account's client; operator for the vendor's"`
	Scopes []string `json:"scopes,omitempty" doc:"read and/or write; default read"`
}

// LoginRequest signs in.
type LoginRequest struct {
	Email    string `json:"email" maxLength:"254"`
	Password string `json:"password" maxLength:"256"`
}

// Input is the root form of the request.
func (r UserRequest) Input() smartlic.UserInput {
	return smartlic.UserInput{Email: r.Email, Name: r.Name, Password: r.Password}
}

// Input is the root form of the request.
func (r RoleRequest) Input() smartlic.RoleInput {
	return smartlic.RoleInput{User: r.User, Role: r.Role, VA: r.VA}
}

// Input is the root form of the request.
func (r ApproveRequest) Input() smartlic.RoleInput { return smartlic.RoleInput{Role: r.Role, VA: r.VA} }

// Input is the root form of the request.
func (r APIKeyRequest) Input() smartlic.APIKeyInput {
	return smartlic.APIKeyInput{Name: r.Name, ExpiresInDays: r.ExpiresInDays}
}

// Input is the root form of the request.
func (r OAuthClientRequest) Input() smartlic.OAuthClientInput {
	return smartlic.OAuthClientInput{Name: r.Name, Role: r.Role, Scopes: r.Scopes}
}

// InvitationRequest invites an e-mail address into a Smart Account.
type InvitationRequest struct {
	Email string `json:"email" minLength:"1" maxLength:"254"`
	Role  string `json:"role" enum:"sa_approver,sa_admin,sa_user,va_admin,va_user"`
	VA    string `json:"va,omitempty" doc:"Virtual Account id or name; required for va_admin and va_user, refused otherwise"`
}

// Input is the root form of the request.
func (r InvitationRequest) Input() smartlic.InvitationInput {
	return smartlic.InvitationInput{Email: r.Email, Role: r.Role, VA: r.VA}
}

// AcceptInvitationRequest accepts an invitation.
type AcceptInvitationRequest struct {
	Code     string `json:"code" minLength:"1" maxLength:"200" doc:"The invitation code (sli_…)"`
	Name     string `json:"name,omitempty" maxLength:"200" doc:"For a new user: the name to show (the e-mail address when empty)"`
	Password string `json:"password,omitempty" maxLength:"256" doc:"For a new user: the password it chooses; for an existing user: its current password, which is not changed"`
}

// Input is the root form of the request.
func (r AcceptInvitationRequest) Input() smartlic.AcceptInvitationInput {
	return smartlic.AcceptInvitationInput{Code: r.Code, Name: r.Name, Password: r.Password}
}
