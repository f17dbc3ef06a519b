package handlers

import (
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

const callerKey = "ordercast.caller"

// identify reads the Bearer credential, if any: the API key or a staff
// token. A present but bad credential is refused; an absent one leaves the
// caller anonymous (customers present their order token per request).
func (h *Handlers) identify(c *gin.Context) {
	var caller Caller
	if tok, ok := bearer(c.Request); ok {
		switch {
		case h.apiKey.Match(tok):
			caller.Service = true
		default:
			staff, err := h.signer.Verify(tok)
			if err != nil {
				h.abort(c, err)
				return
			}
			caller.Staff = &staff
		}
	}
	c.Set(callerKey, caller)
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if v == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true // present but unusable: refused as invalid
	}
	return strings.TrimSpace(tok), true
}

func callerOf(c *gin.Context) Caller {
	v, _ := c.Get(callerKey)
	caller, _ := v.(Caller)
	return caller
}

// requireTrusted admits the shop backend and staff only.
func (h *Handlers) requireTrusted(c *gin.Context) {
	if !callerOf(c).Trusted() {
		h.abort(c, unauthorized("API key or staff token required"))
	}
}

// requireService admits the shop backend only.
func (h *Handlers) requireService(c *gin.Context) {
	caller := callerOf(c)
	switch {
	case caller.Service:
	case caller.Staff != nil:
		h.abort(c, forbidden("only the shop backend's API key may create orders"))
	default:
		h.abort(c, unauthorized("API key required"))
	}
}

// bindJSON decodes a bounded JSON body strictly into v.
func (h *Handlers) bindJSON(c *gin.Context, v any) error {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, h.cfg.MaxMessageBytes)
	dec := json.NewDecoder(body)
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

func (h *Handlers) createOrderHTTP(c *gin.Context) {
	var in orders.NewOrder
	if err := h.bindJSON(c, &in); err != nil {
		h.abort(c, err)
		return
	}
	o, token, err := h.createOrder(c.Request.Context(), in)
	if err != nil {
		h.abort(c, err)
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

func (h *Handlers) changeStatusHTTP(c *gin.Context) {
	var in statusBody
	if err := h.bindJSON(c, &in); err != nil {
		h.abort(c, err)
		return
	}
	if in.Status == nil {
		h.abort(c, badRequest("status: is required"))
		return
	}
	e, err := h.changeStatus(c.Request.Context(), callerOf(c), c.Param("id"), *in.Status, in.Note)
	if err != nil {
		h.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"event": e})
}

func (h *Handlers) getOrderHTTP(c *gin.Context) {
	id := c.Param("id")
	_, o, err := h.canRead(c.Request.Context(), callerOf(c), id, c.Query("token"))
	if err != nil {
		h.abort(c, err)
		return
	}
	o, events, err := h.orderSince(c.Request.Context(), o, 0)
	if err != nil {
		h.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"order": o, "events": events})
}

func (h *Handlers) listOrdersHTTP(c *gin.Context) {
	q := store.ListQuery{Limit: 20, Before: c.Query("before")}
	if s := c.Query("status"); s != "" {
		st, ok := orders.ParseStatus(s)
		if !ok {
			h.abort(c, badRequest("status: unknown status"))
			return
		}
		q.Status = st
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			h.abort(c, badRequest("limit: must be an integer from 1 to 100"))
			return
		}
		q.Limit = n
	}
	list, next, err := h.store.ListOrders(c.Request.Context(), q)
	if err != nil {
		h.abort(c, err)
		return
	}
	if list == nil {
		list = []orders.Order{}
	}
	c.JSON(http.StatusOK, gin.H{"orders": list, "next": next})
}
