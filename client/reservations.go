package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.ReservationService = (*Client)(nil)

// CreateReservation reserves licenses for a device's request code.
func (c *Client) CreateReservation(ctx context.Context, saKey string, in smartlic.ReservationInput) (smartlic.Reservation, error) {
	return send[smartlic.Reservation](ctx, c, http.MethodPost, wire.FromReservationInput(in), accounts, sa(saKey), "reservations")
}

// UpdateReservation issues a new authorization code with new quantities.
func (c *Client) UpdateReservation(ctx context.Context, saKey, id string, licenses []smartlic.LicenseRequest) (smartlic.Reservation, error) {
	return send[smartlic.Reservation](ctx, c, http.MethodPatch, wire.ReservationUpdate{Licenses: wire.FromLicenseRequests(licenses)}, accounts, sa(saKey), "reservations", segment{"reservation", id})
}

// ConfirmReservation enters a device's confirmation code.
func (c *Client) ConfirmReservation(ctx context.Context, saKey, code string) (smartlic.Reservation, error) {
	return send[smartlic.Reservation](ctx, c, http.MethodPost, wire.ReservationCode{Code: code}, accounts, sa(saKey), "reservation-confirmations")
}

// ReturnReservation enters a device's return code.
func (c *Client) ReturnReservation(ctx context.Context, saKey, code string) (smartlic.Reservation, error) {
	return send[smartlic.Reservation](ctx, c, http.MethodPost, wire.ReservationCode{Code: code}, accounts, sa(saKey), "reservation-returns")
}

// CancelReservation cancels a reservation without a return code.
func (c *Client) CancelReservation(ctx context.Context, saKey, id, reason string) (smartlic.Reservation, error) {
	return send[smartlic.Reservation](ctx, c, http.MethodPost, wire.ReservationCancel{Reason: reason}, accounts, sa(saKey), "reservations", segment{"reservation", id}, "cancel")
}

// GetReservation returns one reservation.
func (c *Client) GetReservation(ctx context.Context, saKey, id string) (smartlic.Reservation, error) {
	return get[smartlic.Reservation](ctx, c, accounts, sa(saKey), "reservations", segment{"reservation", id})
}

// ListReservations lists reservations, optionally by UDI prefix or status.
func (c *Client) ListReservations(ctx context.Context, saKey string, f smartlic.ReservationFilter, p smartlic.Page) ([]smartlic.Reservation, string, error) {
	var v wire.Page[smartlic.Reservation]
	q := url.Values{}
	if f.UDI != "" {
		q.Set("udi", f.UDI)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	for k, vs := range pageQuery(p) {
		q[k] = vs
	}
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, accounts, sa(saKey), "reservations")
	return v.Items, v.Next, err
}

// ReservationSettingsOfProduct tells whether PLR is enabled for a product.
func (c *Client) ReservationSettingsOfProduct(ctx context.Context, pid string) (smartlic.ReservationSettings, error) {
	return get[smartlic.ReservationSettings](ctx, c, products, segment{"product", pid}, "reservation-settings")
}

// SetReservationSettingsOfProduct enables or disables PLR for a product.
func (c *Client) SetReservationSettingsOfProduct(ctx context.Context, pid string, s smartlic.ReservationSettings) (smartlic.ReservationSettings, error) {
	return send[smartlic.ReservationSettings](ctx, c, http.MethodPut, s, products, segment{"product", pid}, "reservation-settings")
}

// ReservationSettingsOfAccount tells whether PLR is enabled for an SA.
func (c *Client) ReservationSettingsOfAccount(ctx context.Context, saKey string) (smartlic.ReservationSettings, error) {
	return get[smartlic.ReservationSettings](ctx, c, accounts, sa(saKey), "reservation-settings")
}

// SetReservationSettingsOfAccount enables or disables PLR for an SA.
func (c *Client) SetReservationSettingsOfAccount(ctx context.Context, saKey string, s smartlic.ReservationSettings) (smartlic.ReservationSettings, error) {
	return send[smartlic.ReservationSettings](ctx, c, http.MethodPut, s, accounts, sa(saKey), "reservation-settings")
}
