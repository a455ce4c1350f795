package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type reservationPath struct {
	SA          string `path:"sa" doc:"Smart Account id or domain"`
	Reservation string `path:"reservation" doc:"Reservation id"`
}

type reservationBody[B any] struct {
	SA          string `path:"sa" doc:"Smart Account id or domain"`
	Reservation string `path:"reservation" doc:"Reservation id"`
	Body        B
}

type reservationList struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	UDI    string `query:"udi" maxLength:"200" doc:"UDI (PID:SN) or a prefix of it"`
	Status string `query:"status" enum:"open,closed,authorized,updating,installed,returned,cancelled" doc:"open (authorized, updating, installed), closed (returned, cancelled), or one status"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After  string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

type productSettingsPath struct {
	Product string `path:"product" doc:"Product id or PID"`
}

type productSettingsBody struct {
	Product string `path:"product" doc:"Product id or PID"`
	Body    smartlic.ReservationSettings
}

// registerReservationRoutes adds license reservation (SLR and PLR).
func (s *Server) registerReservationRoutes() {
	svc := s.svc
	const reservations = "/api/v1/accounts/{sa}/reservations"
	handle(s, route{method: post, path: reservations, id: "create-reservation", status: http.StatusCreated, tag: "reservations",
		summary: "Reserve licenses for a device's request code; the answer carries the signed authorization code"},
		func(ctx context.Context, in *saBody[wire.ReservationRequest]) (*body[smartlic.Reservation], error) {
			return one(svc.CreateReservation(ctx, in.SA, in.Body.Input()))
		})
	handle(s, route{method: get, path: reservations, id: "list-reservations", tag: "reservations",
		summary: "List a Smart Account's reservations (those of the caller's Virtual Accounts), optionally by UDI or status"},
		func(ctx context.Context, in *reservationList) (*body[wire.Page[smartlic.Reservation]], error) {
			return page(svc.ListReservations(ctx, in.SA, smartlic.ReservationFilter{UDI: in.UDI, Status: in.Status}, smartlic.Page{Limit: in.Limit, After: in.After}))
		})
	handle(s, route{method: get, path: reservations + "/{reservation}", id: "get-reservation", tag: "reservations",
		summary: "One reservation, with its latest authorization code"},
		func(ctx context.Context, in *reservationPath) (*body[smartlic.Reservation], error) {
			return one(svc.GetReservation(ctx, in.SA, in.Reservation))
		})
	handle(s, route{method: patch, path: reservations + "/{reservation}", id: "update-reservation", tag: "reservations",
		summary: "Issue a new authorization code with new quantities; the old ones stay reserved until the device's confirmation code"},
		func(ctx context.Context, in *reservationBody[wire.ReservationUpdate]) (*body[smartlic.Reservation], error) {
			return one(svc.UpdateReservation(ctx, in.SA, in.Reservation, in.Body.LicenseRequests()))
		})
	handle(s, route{method: post, path: reservations + "/{reservation}/cancel", id: "cancel-reservation", tag: "reservations",
		summary: "Cancel a reservation without a return code (administrators, with a reason for the event log)"},
		func(ctx context.Context, in *reservationBody[wire.ReservationCancel]) (*body[smartlic.Reservation], error) {
			return one(svc.CancelReservation(ctx, in.SA, in.Reservation, in.Body.Reason))
		})
	handle(s, route{method: post, path: "/api/v1/accounts/{sa}/reservation-returns", id: "return-reservation", tag: "reservations",
		summary: "Enter a device's return code: the reservation's licenses go back to the pool"},
		func(ctx context.Context, in *saBody[wire.ReservationCode]) (*body[smartlic.Reservation], error) {
			return one(svc.ReturnReservation(ctx, in.SA, in.Body.Code))
		})
	handle(s, route{method: post, path: "/api/v1/accounts/{sa}/reservation-confirmations", id: "confirm-reservation", tag: "reservations",
		summary: "Enter a device's confirmation code: quantities held for older authorization codes go back to the pool"},
		func(ctx context.Context, in *saBody[wire.ReservationCode]) (*body[smartlic.Reservation], error) {
			return one(svc.ConfirmReservation(ctx, in.SA, in.Body.Code))
		})

	const accountSettings = "/api/v1/accounts/{sa}/reservation-settings"
	handle(s, route{method: get, path: accountSettings, id: "get-account-reservation-settings", tag: "reservations",
		summary: "Whether the vendor enabled Permanent License Reservation for the Smart Account"},
		func(ctx context.Context, in *saPath) (*body[smartlic.ReservationSettings], error) {
			return one(svc.ReservationSettingsOfAccount(ctx, in.SA))
		})
	handle(s, route{method: http.MethodPut, path: accountSettings, id: "set-account-reservation-settings", tag: "reservations",
		summary: "Enable or disable Permanent License Reservation for a Smart Account (vendor operator)"},
		func(ctx context.Context, in *saBody[smartlic.ReservationSettings]) (*body[smartlic.ReservationSettings], error) {
			return one(svc.SetReservationSettingsOfAccount(ctx, in.SA, in.Body))
		})
	const productSettings = "/api/v1/catalog/products/{product}/reservation-settings"
	handle(s, route{method: get, path: productSettings, id: "get-product-reservation-settings", tag: "reservations",
		summary: "Whether Permanent License Reservation is enabled for a product (vendor operator)"},
		func(ctx context.Context, in *productSettingsPath) (*body[smartlic.ReservationSettings], error) {
			return one(svc.ReservationSettingsOfProduct(ctx, in.Product))
		})
	handle(s, route{method: http.MethodPut, path: productSettings, id: "set-product-reservation-settings", tag: "reservations",
		summary: "Enable or disable Permanent License Reservation for a product (vendor operator)"},
		func(ctx context.Context, in *productSettingsBody) (*body[smartlic.ReservationSettings], error) {
			return one(svc.SetReservationSettingsOfProduct(ctx, in.Product, in.Body))
		})
}
