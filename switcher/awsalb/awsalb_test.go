package awsalb_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/bgmigrate/bgmigrate/switcher/awsalb"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

const (
	listenerARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	lbARN       = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188"
	blueTG      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/73e2d6bc24d8a067"
	greenTG     = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-green/2453ed029918f21f"
	otherTG     = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-other/9f3b1e7c21a4d2c0"
)

// ---- ELBv2 stand-in -------------------------------------------------------

// standIn answers the two ELBv2 Query API actions the switcher uses,
// DescribeListeners and ModifyListener, from listeners kept in memory.
type standIn struct {
	mu        sync.Mutex
	listeners map[string][]xmlAction // listener ARN → default actions
	groups    map[string]bool        // known target group ARNs
	targets   map[string][]string    // target group ARN → the state of each target
	modifies  []url.Values           // every ModifyListener form, in order
}

type xmlTuple struct {
	TargetGroupArn string
	Weight         int
}

type xmlStickiness struct {
	Enabled         bool
	DurationSeconds int `xml:",omitempty"`
}

type xmlForward struct {
	TargetGroups []xmlTuple     `xml:"TargetGroups>member"`
	Stickiness   *xmlStickiness `xml:"TargetGroupStickinessConfig,omitempty"`
}

type xmlOIDC struct {
	Issuer, ClientId                                       string
	AuthorizationEndpoint, TokenEndpoint, UserInfoEndpoint string
}

type xmlAction struct {
	Type                   string
	TargetGroupArn         string      `xml:",omitempty"`
	Order                  int         `xml:",omitempty"`
	ForwardConfig          *xmlForward `xml:",omitempty"`
	AuthenticateOidcConfig *xmlOIDC    `xml:",omitempty"`
}

type xmlListener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	DefaultActions  []xmlAction `xml:"DefaultActions>member"`
}

type listenersResult struct {
	XMLName   xml.Name
	Xmlns     string        `xml:"xmlns,attr"`
	Listeners []xmlListener `xml:"Result>Listeners>member"`
	RequestID string        `xml:"ResponseMetadata>RequestId"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

type xmlTargetHealthDescription struct {
	TargetID string `xml:"Target>Id"`
	Port     int    `xml:"Target>Port"`
	State    string `xml:"TargetHealth>State"`
}

type targetHealthResult struct {
	XMLName      xml.Name                     `xml:"DescribeTargetHealthResponse"`
	Xmlns        string                       `xml:"xmlns,attr"`
	Descriptions []xmlTargetHealthDescription `xml:"DescribeTargetHealthResult>TargetHealthDescriptions>member"`
	RequestID    string                       `xml:"ResponseMetadata>RequestId"`
}

const xmlns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// startStandIn serves one listener forwarding to the blue target group.
func startStandIn(t *testing.T) (*standIn, string) {
	t.Helper()
	s := &standIn{
		listeners: map[string][]xmlAction{listenerARN: {{Type: "forward", TargetGroupArn: blueTG, Order: 1}}},
		groups:    map[string]bool{blueTG: true, greenTG: true, otherTG: true},
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		s.fail(w, http.StatusForbidden, "MissingAuthenticationToken", "request is not signed with SigV4")
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("Version") != "2015-12-01" {
		s.fail(w, http.StatusBadRequest, "InvalidAction", "want a form POST with Version=2015-12-01")
		return
	}
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Get("Action") {
	case "DescribeListeners":
		var out []xmlListener
		for i := 1; f.Has(fmt.Sprintf("ListenerArns.member.%d", i)); i++ {
			arn := f.Get(fmt.Sprintf("ListenerArns.member.%d", i))
			actions, ok := s.listeners[arn]
			if !ok {
				s.fail(w, http.StatusBadRequest, "ListenerNotFound", "One or more listeners not found")
				return
			}
			out = append(out, listener(arn, actions))
		}
		s.reply(w, "DescribeListeners", out)
	case "ModifyListener":
		arn := f.Get("ListenerArn")
		if _, ok := s.listeners[arn]; !ok {
			s.fail(w, http.StatusBadRequest, "ListenerNotFound", "One or more listeners not found")
			return
		}
		actions, code, msg := s.parseActions(f)
		if code != "" {
			s.fail(w, http.StatusBadRequest, code, msg)
			return
		}
		s.modifies = append(s.modifies, f)
		if len(actions) > 0 {
			s.listeners[arn] = actions
		}
		s.reply(w, "ModifyListener", []xmlListener{listener(arn, s.listeners[arn])})
	case "DescribeTargetHealth":
		tg := f.Get("TargetGroupArn")
		if !s.groups[tg] {
			s.fail(w, http.StatusBadRequest, "TargetGroupNotFound", "One or more target groups not found")
			return
		}
		var res targetHealthResult
		for i, state := range s.targets[tg] {
			d := xmlTargetHealthDescription{TargetID: fmt.Sprintf("i-%017d", i), Port: 8080, State: state}
			res.Descriptions = append(res.Descriptions, d)
		}
		res.Xmlns, res.RequestID = xmlns, "req-th"
		body, _ := xml.Marshal(res)
		w.Header().Set("Content-Type", "text/xml")
		w.Write(body)
	default:
		s.fail(w, http.StatusBadRequest, "InvalidAction", "unknown action "+f.Get("Action"))
	}
}

func listener(arn string, actions []xmlAction) xmlListener {
	return xmlListener{ListenerArn: arn, LoadBalancerArn: lbARN, Port: 443, Protocol: "HTTPS", DefaultActions: actions}
}

// parseActions reads DefaultActions.member.N.… and checks them as ELBv2
// would.
func (s *standIn) parseActions(f url.Values) (actions []xmlAction, code, msg string) {
	for i := 1; ; i++ {
		p := fmt.Sprintf("DefaultActions.member.%d.", i)
		if !f.Has(p + "Type") {
			return actions, "", ""
		}
		a := xmlAction{Type: f.Get(p + "Type"), TargetGroupArn: f.Get(p + "TargetGroupArn")}
		a.Order, _ = strconv.Atoi(f.Get(p + "Order"))
		if a.Type == "authenticate-oidc" {
			if f.Get(p+"AuthenticateOidcConfig.ClientSecret") == "" && f.Get(p+"AuthenticateOidcConfig.UseExistingClientSecret") != "true" {
				return nil, "ValidationError", "ClientSecret is required unless UseExistingClientSecret is true"
			}
			o := p + "AuthenticateOidcConfig."
			a.AuthenticateOidcConfig = &xmlOIDC{
				Issuer: f.Get(o + "Issuer"), ClientId: f.Get(o + "ClientId"),
				AuthorizationEndpoint: f.Get(o + "AuthorizationEndpoint"), TokenEndpoint: f.Get(o + "TokenEndpoint"), UserInfoEndpoint: f.Get(o + "UserInfoEndpoint"),
			}
		}
		fp := p + "ForwardConfig."
		for j := 1; f.Has(fmt.Sprintf("%sTargetGroups.member.%d.TargetGroupArn", fp, j)); j++ {
			tg := f.Get(fmt.Sprintf("%sTargetGroups.member.%d.TargetGroupArn", fp, j))
			weight, err := strconv.Atoi(f.Get(fmt.Sprintf("%sTargetGroups.member.%d.Weight", fp, j)))
			if err != nil || weight < 0 || weight > 999 {
				return nil, "ValidationError", "weight must be between 0 and 999"
			}
			if !s.groups[tg] {
				return nil, "TargetGroupNotFound", "One or more target groups not found"
			}
			if a.ForwardConfig == nil {
				a.ForwardConfig = &xmlForward{}
			}
			a.ForwardConfig.TargetGroups = append(a.ForwardConfig.TargetGroups, xmlTuple{tg, weight})
		}
		if f.Has(fp + "TargetGroupStickinessConfig.Enabled") {
			if a.ForwardConfig == nil {
				return nil, "ValidationError", "stickiness without target groups"
			}
			d, _ := strconv.Atoi(f.Get(fp + "TargetGroupStickinessConfig.DurationSeconds"))
			a.ForwardConfig.Stickiness = &xmlStickiness{Enabled: f.Get(fp+"TargetGroupStickinessConfig.Enabled") == "true", DurationSeconds: d}
		}
		if a.Type == "forward" {
			if a.TargetGroupArn != "" && a.ForwardConfig != nil {
				return nil, "ValidationError", "TargetGroupArn and ForwardConfig both set"
			}
			if a.TargetGroupArn == "" && a.ForwardConfig == nil {
				return nil, "ValidationError", "a forward action needs a target group"
			}
		}
		actions = append(actions, a)
	}
}

func (s *standIn) reply(w http.ResponseWriter, action string, ls []xmlListener) {
	body, err := xml.Marshal(listenersResult{XMLName: xml.Name{Local: action + "Response"}, Xmlns: xmlns, Listeners: ls, RequestID: "req-1"})
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	// The result element is named after the action.
	out := strings.ReplaceAll(string(body), "<Result>", "<"+action+"Result>")
	out = strings.ReplaceAll(out, "</Result>", "</"+action+"Result>")
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, out)
}

func (s *standIn) fail(w http.ResponseWriter, status int, code, msg string) {
	body, _ := xml.Marshal(errorResponse{Xmlns: xmlns, Type: "Sender", Code: code, Message: msg, RequestID: "req-err"})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write(body)
}

func (s *standIn) lastModify(t *testing.T) url.Values {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.modifies) == 0 {
		t.Fatal("ModifyListener was never called")
	}
	return s.modifies[len(s.modifies)-1]
}

func (s *standIn) modifyCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.modifies)
}

// ---- tests ----------------------------------------------------------------

func target(endpoint string) awsalb.Target {
	return awsalb.Target{
		Listener:     listenerARN,
		TargetGroups: map[switcher.Color]string{switcher.Blue: blueTG, switcher.Green: greenTG},
		Region:       "eu-west-1",
		Endpoint:     endpoint,
	}
}

// client talks to endpoint with static test credentials and no retries.
func client(endpoint string) *elbv2.Client {
	return elbv2.New(elbv2.Options{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

func newSwitcher(t *testing.T, endpoint string) *awsalb.Switcher {
	t.Helper()
	s, err := awsalb.New(client(endpoint), target(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformanceAgainstELBv2StandIn(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "aws-alb",
		Open: func(t *testing.T) switchertest.Instance {
			_, endpoint := startStandIn(t)
			return switchertest.Instance{Switcher: newSwitcher(t, endpoint)}
		},
	})
}

func TestModifyListenerWeightsAgainstELBv2StandIn(t *testing.T) {
	t.Parallel()
	st, endpoint := startStandIn(t)
	// Put an OIDC action before the forward, with stickiness on, as a real
	// listener may have: both must survive the switch.
	st.listeners[listenerARN] = []xmlAction{
		{Type: "authenticate-oidc", Order: 1, AuthenticateOidcConfig: &xmlOIDC{
			Issuer: "https://idp.example", ClientId: "shop",
			AuthorizationEndpoint: "https://idp.example/auth", TokenEndpoint: "https://idp.example/token", UserInfoEndpoint: "https://idp.example/userinfo",
		}},
		{Type: "forward", Order: 2, ForwardConfig: &xmlForward{
			TargetGroups: []xmlTuple{{blueTG, 1}, {otherTG, 0}},
			Stickiness:   &xmlStickiness{Enabled: true, DurationSeconds: 300},
		}},
	}
	s := newSwitcher(t, endpoint)
	ctx := context.Background()
	if err := s.SetWeights(ctx, switcher.Green, 30); err != nil {
		t.Fatal(err)
	}
	f := st.lastModify(t)
	want := map[string]string{
		"ListenerArn":                   listenerARN,
		"DefaultActions.member.1.Type":  "authenticate-oidc",
		"DefaultActions.member.1.Order": "1",
		"DefaultActions.member.1.AuthenticateOidcConfig.UseExistingClientSecret":            "true",
		"DefaultActions.member.2.Type":                                                      "forward",
		"DefaultActions.member.2.Order":                                                     "2",
		"DefaultActions.member.2.ForwardConfig.TargetGroups.member.1.TargetGroupArn":        blueTG,
		"DefaultActions.member.2.ForwardConfig.TargetGroups.member.1.Weight":                "70",
		"DefaultActions.member.2.ForwardConfig.TargetGroups.member.2.TargetGroupArn":        greenTG,
		"DefaultActions.member.2.ForwardConfig.TargetGroups.member.2.Weight":                "30",
		"DefaultActions.member.2.ForwardConfig.TargetGroupStickinessConfig.Enabled":         "true",
		"DefaultActions.member.2.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds": "300",
	}
	for k, v := range want {
		if got := f.Get(k); got != v {
			t.Errorf("ModifyListener %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{
		"DefaultActions.member.2.TargetGroupArn",
		"DefaultActions.member.2.ForwardConfig.TargetGroups.member.3.TargetGroupArn",
		"DefaultActions.member.3.Type",
	} {
		if f.Has(k) {
			t.Errorf("ModifyListener sent %s=%q, want it absent", k, f.Get(k))
		}
	}
	// Switch writes 0/100 with both groups kept, then a repeat is a no-op.
	if err := s.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	f = st.lastModify(t)
	if b, g := f.Get("DefaultActions.member.2.ForwardConfig.TargetGroups.member.1.Weight"), f.Get("DefaultActions.member.2.ForwardConfig.TargetGroups.member.2.Weight"); b != "0" || g != "100" {
		t.Errorf("Switch(green) sent weights blue=%s green=%s, want 0 and 100", b, g)
	}
	n := st.modifyCount()
	if err := s.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	if st.modifyCount() != n {
		t.Errorf("Switch to the active color called ModifyListener")
	}
}

func TestUnknownListenerAgainstELBv2StandIn(t *testing.T) {
	t.Parallel()
	_, endpoint := startStandIn(t)
	tg := target(endpoint)
	tg.Listener = strings.Replace(listenerARN, "f2f7dc8efc522ab2", "0000000000000000", 1)
	s, err := awsalb.New(client(endpoint), tg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, activeErr := s.Active(ctx)
	for op, err := range map[string]error{"active": activeErr, "switch": s.Switch(ctx, switcher.Green), "weights": s.SetWeights(ctx, switcher.Green, 10)} {
		var pe *switcher.ProviderError
		if !errors.As(err, &pe) || pe.Provider != "aws-alb" || pe.Op != op {
			t.Fatalf("%s on an unknown listener = %v, want *switcher.ProviderError with Op %q", op, err, op)
		}
		if !errors.Is(err, switcher.ErrNotFound) || !strings.Contains(err.Error(), "ListenerNotFound") || !strings.Contains(err.Error(), tg.Listener) {
			t.Errorf("%s: %v, want ErrNotFound naming the listener and ListenerNotFound", op, err)
		}
	}
}

func TestForwardToNeitherColorAgainstELBv2StandIn(t *testing.T) {
	t.Parallel()
	st, endpoint := startStandIn(t)
	st.listeners[listenerARN] = []xmlAction{{Type: "forward", TargetGroupArn: otherTG}}
	_, err := newSwitcher(t, endpoint).Active(context.Background())
	if !errors.Is(err, switcher.ErrNotFound) || !strings.Contains(err.Error(), "neither the blue nor the green") {
		t.Fatalf("Active = %v, want ErrNotFound: neither the blue nor the green target group", err)
	}
}

// awsEnv gives the SDK's default chain static test credentials and no
// shared config, so it never looks for an instance role.
func awsEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

func openURL(endpoint string) string {
	return "aws-alb:///" + url.PathEscape(listenerARN) + "?" + url.Values{
		"blue": {blueTG}, "green": {greenTG}, "endpoint": {endpoint},
	}.Encode()
}

// Not parallel: it sets environment variables.
func TestOpenURLAgainstELBv2StandIn(t *testing.T) {
	awsEnv(t)
	st, endpoint := startStandIn(t)
	ctx := context.Background()
	s, err := switcher.Open(ctx, openURL(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Active(ctx); err != nil || c != switcher.Green {
		t.Fatalf("Active = %q, %v; want green", c, err)
	}
	if st.modifyCount() != 1 {
		t.Errorf("ModifyListener calls = %d, want 1", st.modifyCount())
	}
}

// Not parallel: it sets environment variables.
func TestUnreachableELBv2StandIn(t *testing.T) {
	awsEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close()
	_, err = switcher.Open(context.Background(), openURL(endpoint))
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("Open with an unreachable endpoint = %v, want *switcher.ProviderError", err)
	}
	if !strings.Contains(pe.Target, endpoint) || !strings.Contains(err.Error(), endpoint) {
		t.Errorf("error %q (target %q) does not name the endpoint %s", err, pe.Target, endpoint)
	}
	if errors.Is(err, switcher.ErrNotFound) {
		t.Errorf("an unreachable endpoint is not ErrNotFound: %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	q := "?blue=" + blueTG + "&green=" + greenTG
	tests := []struct {
		url, want string // want: "listener region endpoint" or "error: substring"
	}{
		{"aws-alb:///" + listenerARN + q, listenerARN + " eu-west-1 "},
		{"aws-alb:///" + url.PathEscape(listenerARN) + q + "&region=us-east-1&endpoint=http://127.0.0.1:4566", listenerARN + " us-east-1 http://127.0.0.1:4566"},
		{"aws-alb://" + url.QueryEscape(listenerARN) + q, "error: invalid URL escape"},
		{"aws-alb://shop" + q, "error: put the listener ARN in the path"},
		{"aws-alb:///" + blueTG + q, "error: is not a listener ARN"},
		{"aws-alb:///" + listenerARN + "?blue=" + blueTG, "error: green="},
		{"aws-alb:///" + listenerARN + "?blue=" + blueTG + "&green=" + blueTG, "error: the same target group"},
		{"aws-alb:///" + listenerARN + q + "&endpoint=127.0.0.1:4566", "error: endpoint="},
		{"aws-alb:///" + listenerARN + q + "&weight=5", `error: unknown parameter "weight"`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			var got string
			u, err := url.Parse(tc.url)
			if err == nil {
				var tg awsalb.Target
				tg, err = awsalb.ParseTarget(u)
				got = tg.Listener + " " + tg.Region + " " + tg.Endpoint
			}
			if err != nil {
				got = "error: " + err.Error()
				if !strings.HasPrefix(tc.want, "error: ") || !strings.Contains(got, strings.TrimPrefix(tc.want, "error: ")) {
					t.Fatalf("ParseTarget(%s) = %s, want %s", tc.url, got, tc.want)
				}
				return
			}
			if got != tc.want {
				t.Errorf("ParseTarget(%s) = %s, want %s", tc.url, got, tc.want)
			}
		})
	}
}

// setTargets sets the states of a target group's targets.
func (s *standIn) setTargets(tg string, states ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.targets == nil {
		s.targets = map[string][]string{}
	}
	s.targets[tg] = states
}

// TestInFlightAgainstELBv2StandIn follows a scale-down of blue after a
// switch to green: while blue's targets are registered and healthy the
// ALB cannot say what they serve (ok false); deregistered, they drain and
// each leaves once its requests are done, and InFlight counts them down
// to 0. Green, whose one target is unused, has 0.
func TestInFlightAgainstELBv2StandIn(t *testing.T) {
	t.Parallel()
	st, endpoint := startStandIn(t)
	sw := newSwitcher(t, endpoint)
	ctx := t.Context()
	if err := sw.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	st.setTargets(greenTG, "unused")
	for _, c := range []struct {
		states []string
		n      int
		ok     bool
	}{
		{[]string{"healthy", "healthy"}, 0, false},
		{[]string{"draining", "draining"}, 2, true},
		{[]string{"draining", "healthy"}, 1, true},
		{[]string{"draining"}, 1, true},
		{nil, 0, true},
	} {
		st.setTargets(blueTG, c.states...)
		if n, ok, err := sw.InFlight(ctx, switcher.Blue); n != c.n || ok != c.ok || err != nil {
			t.Errorf("blue targets %v: InFlight = %d, %v, %v; want %d, %v, nil", c.states, n, ok, err, c.n, c.ok)
		}
	}
	if n, ok, err := sw.InFlight(ctx, switcher.Green); n != 0 || !ok || err != nil {
		t.Errorf("green, unused: InFlight = %d, %v, %v; want 0, true, nil", n, ok, err)
	}
	if _, _, err := sw.InFlight(ctx, "red"); err == nil {
		t.Error("InFlight(red): no error")
	}
}

// describeOnly is an API without DescribeTargetHealth.
type describeOnly struct{ awsalb.API }

// TestInFlightWithoutTargetHealth: an API that cannot describe target
// health cannot tell (ok false, no error); an unknown target group is a
// ProviderError.
func TestInFlightWithoutTargetHealth(t *testing.T) {
	t.Parallel()
	_, endpoint := startStandIn(t)
	sw, err := awsalb.New(describeOnly{client(endpoint)}, target(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok, err := sw.InFlight(t.Context(), switcher.Blue); n != 0 || ok || err != nil {
		t.Fatalf("InFlight without DescribeTargetHealth = %d, %v, %v", n, ok, err)
	}
	tg := target(endpoint)
	tg.TargetGroups[switcher.Blue] = strings.Replace(blueTG, "shop-blue", "shop-gone", 1)
	sw, err = awsalb.New(client(endpoint), tg)
	if err != nil {
		t.Fatal(err)
	}
	var pe *switcher.ProviderError
	if _, ok, err := sw.InFlight(t.Context(), switcher.Blue); ok || !errors.As(err, &pe) || !errors.Is(err, switcher.ErrNotFound) {
		t.Fatalf("InFlight of an unknown target group: %v, %v", ok, err)
	}
}
