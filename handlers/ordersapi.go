package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/store"
)

// orderLister pages through orders (the store).
type orderLister interface {
	ListOrders(ctx context.Context, q store.ListQuery) ([]orders.Order, string, error)
}

// ordersAPI serves /api/orders: the shop backend's and staff's HTTP API.
type ordersAPI struct {
	act     *orderActions
	list    orderLister
	maxBody int64
}

func (a *ordersAPI) create(c *gin.Context) {
	var in orders.NewOrder
	if err := bindJSON(c, a.maxBody, &in); err != nil {
		abort(c, err)
		return
	}
	o, token, err := a.act.createOrder(c.Request.Context(), in)
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{
		"order":         o,
		"trackingToken": token,
		"trackingUrl":   baseURL(c.Request) + "/track/" + o.ID + "?token=" + token,
	})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type statusBody struct {
	Status *string `json:"status"`
	Note   string  `json:"note"`
}

func (a *ordersAPI) changeStatus(c *gin.Context) {
	var in statusBody
	if err := bindJSON(c, a.maxBody, &in); err != nil {
		abort(c, err)
		return
	}
	if in.Status == nil {
		abort(c, badRequest("status: is required"))
		return
	}
	e, err := a.act.changeStatus(c.Request.Context(), callerOf(c), c.Param("id"), *in.Status, in.Note)
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"event": e})
}

func (a *ordersAPI) get(c *gin.Context) {
	_, o, err := a.act.canRead(c.Request.Context(), callerOf(c), c.Param("id"), c.Query("token"))
	if err != nil {
		abort(c, err)
		return
	}
	o, events, err := a.act.orderSince(c.Request.Context(), o, 0)
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"order": o, "events": events})
}

func (a *ordersAPI) listOrders(c *gin.Context) {
	q := store.ListQuery{Limit: 20, Before: c.Query("before")}
	if s := c.Query("status"); s != "" {
		st, ok := orders.ParseStatus(s)
		if !ok {
			abort(c, badRequest("status: unknown status"))
			return
		}
		q.Status = st
	}
	switch c.Query("awaiting") {
	case "":
	case "reply":
		q.Awaiting = true
	default:
		abort(c, badRequest("awaiting: must be reply"))
		return
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			abort(c, badRequest("limit: must be an integer from 1 to 100"))
			return
		}
		q.Limit = n
	}
	list, next, err := a.list.ListOrders(c.Request.Context(), q)
	if err != nil {
		abort(c, err)
		return
	}
	if list == nil {
		list = []orders.Order{}
	}
	c.JSON(http.StatusOK, gin.H{"orders": list, "next": next})
}

// bindJSON decodes a body of at most maxBody bytes strictly into v.
func bindJSON(c *gin.Context, maxBody int64, v any) error {
	return decodeStrict(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody), v)
}

// decodeStrict decodes exactly one JSON value from r into v, refusing
// unknown fields: a typo in a field name never silently drops data. HTTP
// bodies and socket payloads go through it alike.
func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return err
		}
		return badRequest("body must hold one JSON object")
	}
	return nil
}

// jsonError says what is wrong with a body, without echoing it.
func jsonError(err error) error {
	var maxBytes *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxBytes):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("body is empty")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("body must be a JSON object")
		}
		return badRequest(typ.Field + ": wrong type, want " + typ.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest(strings.TrimPrefix(err.Error(), "json: "))
	}
	return badRequest("malformed JSON")
}
