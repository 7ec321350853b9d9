// Package awsalb switches traffic on an AWS Application Load Balancer by
// rewriting the default forward action of one listener into a weighted
// forward over the blue and green target groups. It registers the scheme
// aws-alb:
//
//	aws-alb:///LISTENER_ARN?blue=TG_ARN&green=TG_ARN
//	aws-alb:///arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2?blue=arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/73e2d6bc24d8a067&green=arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-green/2453ed029918f21f
//
// The listener ARN is the URL path after the third slash, as is or
// URL-encoded (aws-alb:///arn%3Aaws%3A…). It cannot be the URL's host:
// Go's URL parser rejects an ARN there, encoded or not.
//
// Parameters: blue= and green= (required) are target group ARNs; region=
// defaults to the listener ARN's region; profile= picks a shared-config
// profile; endpoint= (e.g. http://127.0.0.1:4566) replaces the ELBv2
// endpoint, for stand-ins and emulators. Credentials come from the SDK's
// default chain (environment, shared files, SSO, web identity, ECS or
// EC2 role).
//
// Switch is SetWeights(color, 100); SetWeights writes the weights percent
// and 100-percent with ModifyListener, keeping the other default actions
// (authenticate-oidc/cognito, with their existing client secret), the
// action order and the stickiness settings, and dropping any third target
// group from the forward action. Active and Weights read the forward action
// back with DescribeListeners; a plain forward to one target group counts
// as 100% for it. Listener rules other than the default action are not
// touched. IAM: elasticloadbalancing:DescribeListeners and
// elasticloadbalancing:ModifyListener on the listener.
//
// The switcher is a switcher.InFlightReader through the targets'
// deregistration state (DescribeTargetHealth, IAM
// elasticloadbalancing:DescribeTargetHealth): a drain watches the old
// color's deregistered targets drain; while they are registered and
// serving the ALB cannot say, and the drain is a timer.
package awsalb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() { switcher.Register("aws-alb", open) }

const provider = "aws-alb"

// API is the part of the ELBv2 client the switcher uses; *elbv2.Client
// implements it.
type API interface {
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, opts ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
}

var _ API = (*elbv2.Client)(nil)

// Target is the listener and target groups a switcher changes.
type Target struct {
	Listener string
	// TargetGroups maps each color to its target group ARN.
	TargetGroups map[switcher.Color]string
	Region       string // "" means the listener ARN's region
	Profile      string
	// Endpoint replaces the ELBv2 endpoint when not "".
	Endpoint string
}

// ParseTarget reads an aws-alb:// URL. Unknown parameters are errors.
func ParseTarget(u *url.URL) (Target, error) {
	fail := func(format string, args ...any) (Target, error) {
		return Target{}, fmt.Errorf("aws-alb switcher URL %q: %s", u.Redacted(), fmt.Sprintf(format, args...))
	}
	if u.Host != "" {
		return fail("host %q: put the listener ARN in the path (aws-alb:///LISTENER_ARN)", u.Host)
	}
	t := Target{Listener: strings.TrimPrefix(u.Path, "/")}
	a, err := arn.Parse(t.Listener)
	if err != nil || a.Service != "elasticloadbalancing" || !strings.HasPrefix(a.Resource, "listener/") {
		return fail("%q is not a listener ARN (want arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/…)", t.Listener)
	}
	q := u.Query()
	for key := range q {
		switch key {
		case "blue", "green", "region", "profile", "endpoint":
		default:
			return fail("unknown parameter %q", key)
		}
	}
	t.TargetGroups = map[switcher.Color]string{}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		v := q.Get(string(c))
		if tg, err := arn.Parse(v); err != nil || !strings.HasPrefix(tg.Resource, "targetgroup/") {
			return fail("%s=%q: want a target group ARN", c, v)
		}
		t.TargetGroups[c] = v
	}
	if t.TargetGroups[switcher.Blue] == t.TargetGroups[switcher.Green] {
		return fail("blue and green are the same target group")
	}
	t.Region = q.Get("region")
	if t.Region == "" {
		t.Region = a.Region
	}
	t.Profile = q.Get("profile")
	if e := q.Get("endpoint"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return fail("endpoint=%q: want an http(s) URL", e)
		}
		t.Endpoint = e
	}
	return t, nil
}

func open(ctx context.Context, u *url.URL) (switcher.Switcher, error) {
	t, err := ParseTarget(u)
	if err != nil {
		return nil, err
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(t.Region)}
	if t.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(t.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &switcher.ProviderError{Provider: provider, Op: "open", Target: t.String(), Err: err}
	}
	client := elbv2.NewFromConfig(cfg, func(o *elbv2.Options) {
		if t.Endpoint != "" {
			o.BaseEndpoint = aws.String(t.Endpoint)
		}
	})
	s, err := New(client, t)
	if err != nil {
		return nil, err
	}
	// Fail at open, not at the switch, on a wrong ARN, a missing
	// listener or missing credentials.
	if _, err := s.Active(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// String names the listener and, when set, the endpoint used.
func (t Target) String() string {
	if t.Endpoint != "" {
		return t.Listener + " via " + t.Endpoint
	}
	return t.Listener
}

// Switcher is one ALB listener.
type Switcher struct {
	api API
	t   Target
}

var _ switcher.Weighted = (*Switcher)(nil)

// New returns a switcher over api; it does no I/O.
func New(api API, t Target) (*Switcher, error) {
	if api == nil {
		return nil, errors.New("aws-alb switcher: nil API")
	}
	if t.Listener == "" || t.TargetGroups[switcher.Blue] == "" || t.TargetGroups[switcher.Green] == "" {
		return nil, fmt.Errorf("aws-alb switcher: want a listener and the blue and green target groups, got %+v", t)
	}
	return &Switcher{api: api, t: t}, nil
}

func (s *Switcher) fail(op string, err error) error {
	var lnf *types.ListenerNotFoundException
	var tgnf *types.TargetGroupNotFoundException
	switch {
	case errors.As(err, &lnf):
		err = fmt.Errorf("%w: listener %s (%w)", switcher.ErrNotFound, s.t.Listener, err)
	case errors.As(err, &tgnf):
		err = fmt.Errorf("%w: target group of listener %s (%w)", switcher.ErrNotFound, s.t.Listener, err)
	}
	return &switcher.ProviderError{Provider: provider, Op: op, Target: s.t.String(), Err: err}
}

// describe returns the listener's default actions.
func (s *Switcher) describe(ctx context.Context, op string) ([]types.Action, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := s.api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{s.t.Listener}})
	if err != nil {
		return nil, s.fail(op, err)
	}
	for _, l := range out.Listeners {
		if aws.ToString(l.ListenerArn) == s.t.Listener {
			return l.DefaultActions, nil
		}
	}
	return nil, s.fail(op, fmt.Errorf("%w: DescribeListeners did not return listener %s", switcher.ErrNotFound, s.t.Listener))
}

// forwardIndex finds the forward action among the default actions.
func forwardIndex(actions []types.Action) int {
	for i, a := range actions {
		if a.Type == types.ActionTypeEnumForward {
			return i
		}
	}
	return -1
}

// weights reads the blue and green weights of the forward action and
// reports whether it forwards to nothing else.
func (s *Switcher) weights(actions []types.Action) (w map[switcher.Color]int32, only bool, err error) {
	i := forwardIndex(actions)
	if i < 0 {
		var kinds []string
		for _, a := range actions {
			kinds = append(kinds, string(a.Type))
		}
		return nil, false, fmt.Errorf("%w: listener %s has no forward default action (has %s)", switcher.ErrNotFound, s.t.Listener, strings.Join(kinds, ", "))
	}
	tuples := []types.TargetGroupTuple{{TargetGroupArn: actions[i].TargetGroupArn, Weight: aws.Int32(1)}}
	if fc := actions[i].ForwardConfig; fc != nil && len(fc.TargetGroups) > 0 {
		tuples = fc.TargetGroups
	}
	w = map[switcher.Color]int32{}
	found, only := false, true
	for _, tg := range tuples {
		weight := int32(1)
		if tg.Weight != nil {
			weight = *tg.Weight
		}
		switch aws.ToString(tg.TargetGroupArn) {
		case s.t.TargetGroups[switcher.Blue]:
			w[switcher.Blue] += weight
			found = true
		case s.t.TargetGroups[switcher.Green]:
			w[switcher.Green] += weight
			found = true
		default:
			only = false
		}
	}
	if !found {
		return nil, false, fmt.Errorf("%w: the forward action of listener %s sends to neither the blue nor the green target group", switcher.ErrNotFound, s.t.Listener)
	}
	return w, only, nil
}

func percents(w map[switcher.Color]int32) map[switcher.Color]int {
	total := w[switcher.Blue] + w[switcher.Green]
	if total <= 0 {
		return map[switcher.Color]int{switcher.Blue: 0, switcher.Green: 0}
	}
	blue := int(math.Round(float64(w[switcher.Blue]) * 100 / float64(total)))
	return map[switcher.Color]int{switcher.Blue: blue, switcher.Green: 100 - blue}
}

// Weights returns the share of the blue and green target groups.
func (s *Switcher) Weights(ctx context.Context) (map[switcher.Color]int, error) {
	actions, err := s.describe(ctx, "weights")
	if err != nil {
		return nil, err
	}
	w, _, err := s.weights(actions)
	if err != nil {
		return nil, s.fail("weights", err)
	}
	return percents(w), nil
}

// Active returns the color with the larger share (blue on a tie).
func (s *Switcher) Active(ctx context.Context) (switcher.Color, error) {
	actions, err := s.describe(ctx, "active")
	if err != nil {
		return "", err
	}
	w, _, err := s.weights(actions)
	if err != nil {
		return "", s.fail("active", err)
	}
	if p := percents(w); p[switcher.Green] > p[switcher.Blue] {
		return switcher.Green, nil
	}
	return switcher.Blue, nil
}

// Switch sends all traffic to to.
func (s *Switcher) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	return s.setWeights(ctx, "switch", to, 100)
}

// SetWeights sends percent of the traffic to color.
func (s *Switcher) SetWeights(ctx context.Context, color switcher.Color, percent int) error {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return err
	}
	return s.setWeights(ctx, "weights", color, percent)
}

var errPercent = errors.New("percent must be between 0 and 100")

func (s *Switcher) setWeights(ctx context.Context, op string, color switcher.Color, percent int) error {
	if percent < 0 || percent > 100 {
		return s.fail(op, fmt.Errorf("%w (got %d)", errPercent, percent))
	}
	want := map[switcher.Color]int32{color: int32(percent), color.Other(): int32(100 - percent)}
	actions, err := s.describe(ctx, op)
	if err != nil {
		return err
	}
	cur, only, err := s.weights(actions)
	if err != nil {
		return s.fail(op, err)
	}
	if only && percents(cur)[color] == percent {
		return nil
	}
	out, err := s.api.ModifyListener(ctx, &elbv2.ModifyListenerInput{
		ListenerArn:    aws.String(s.t.Listener),
		DefaultActions: s.plan(actions, want),
	})
	if err != nil {
		return s.fail(op, err)
	}
	if len(out.Listeners) != 1 {
		return s.fail(op, fmt.Errorf("ModifyListener returned %d listeners, want 1", len(out.Listeners)))
	}
	got, _, err := s.weights(out.Listeners[0].DefaultActions)
	if err != nil {
		return s.fail(op, err)
	}
	if got[switcher.Blue] != want[switcher.Blue] || got[switcher.Green] != want[switcher.Green] {
		return s.fail(op, fmt.Errorf("set blue=%d green=%d but the listener reports blue=%d green=%d",
			want[switcher.Blue], want[switcher.Green], got[switcher.Blue], got[switcher.Green]))
	}
	return nil
}

// plan returns the default actions to write: the current ones with the
// forward action replaced by a weighted forward over blue and green.
func (s *Switcher) plan(actions []types.Action, want map[switcher.Color]int32) []types.Action {
	out := make([]types.Action, len(actions))
	copy(out, actions)
	for i, a := range out {
		if a.Type == types.ActionTypeEnumAuthenticateOidc && a.AuthenticateOidcConfig != nil && a.AuthenticateOidcConfig.ClientSecret == nil {
			cfg := *a.AuthenticateOidcConfig
			cfg.UseExistingClientSecret = aws.Bool(true)
			out[i].AuthenticateOidcConfig = &cfg
		}
	}
	i := forwardIndex(out)
	fc := &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
		{TargetGroupArn: aws.String(s.t.TargetGroups[switcher.Blue]), Weight: aws.Int32(want[switcher.Blue])},
		{TargetGroupArn: aws.String(s.t.TargetGroups[switcher.Green]), Weight: aws.Int32(want[switcher.Green])},
	}}
	if old := out[i].ForwardConfig; old != nil {
		fc.TargetGroupStickinessConfig = old.TargetGroupStickinessConfig
	}
	out[i].TargetGroupArn = nil
	out[i].ForwardConfig = fc
	return out
}

// Close does nothing: the SDK client holds no connection that needs it.
func (s *Switcher) Close() error { return nil }
