package awsalb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// TargetHealthAPI is the ELBv2 call InFlight makes; an API that also
// implements it (as *elbv2.Client does) makes the switcher a
// switcher.InFlightReader that can tell.
type TargetHealthAPI interface {
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

var (
	_ TargetHealthAPI         = (*elbv2.Client)(nil)
	_ switcher.InFlightReader = (*Switcher)(nil)
)

// InFlight reads the targets of color's target group (DescribeTargetHealth)
// and returns how many are draining. An ALB counts no requests per target
// group, but a deregistered target stays "draining" while it has requests
// in flight and leaves as soon as it has none (or the group's
// deregistration delay passes), so a scale-down that deregisters the old
// color's targets is watched to its end. The count is ok when it can
// tell: some target draining, or none that could serve (no targets, or
// all unused or unavailable). A group whose targets are registered and
// serving (only its weight went to 0) may still hold requests the ALB does
// not show: ok is false, and a drain falls back to its timer. IAM:
// elasticloadbalancing:DescribeTargetHealth.
func (s *Switcher) InFlight(ctx context.Context, color switcher.Color) (int, bool, error) {
	if err := switcher.InFlightArgs(ctx, color); err != nil {
		return 0, false, err
	}
	api, ok := s.api.(TargetHealthAPI)
	if !ok {
		return 0, false, nil
	}
	out, err := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.t.TargetGroups[color])})
	if err != nil {
		return 0, false, s.fail("in-flight", fmt.Errorf("target group %s: %w", s.t.TargetGroups[color], err))
	}
	draining, serving := 0, 0
	for _, d := range out.TargetHealthDescriptions {
		state := types.TargetHealthStateEnumUnavailable
		if d.TargetHealth != nil {
			state = d.TargetHealth.State
		}
		switch state {
		case types.TargetHealthStateEnumDraining:
			draining++
		case types.TargetHealthStateEnumUnused, types.TargetHealthStateEnumUnavailable:
		default: // initial, healthy, unhealthy, unhealthy.draining: may serve
			serving++
		}
	}
	if draining == 0 && serving > 0 {
		return 0, false, nil
	}
	return draining, true, nil
}
