package kubernetes_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// TestConformanceAgainstRealCluster runs the suite against the cluster
// $KUBECONFIG names, on throwaway Services (selector
// app=bgmigrate-test,color=…, no Pods) in $BGMIGRATE_K8S_NAMESPACE
// (default "default"). It needs services: create, get, patch, delete.
func TestConformanceAgainstRealCluster(t *testing.T) {
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("KUBECONFIG not set: no Kubernetes cluster to test against (none exists in CI or on the project's machines); " +
			"set KUBECONFIG (and optionally BGMIGRATE_K8S_NAMESPACE) to run the conformance suite against a real cluster")
	}
	namespace := os.Getenv("BGMIGRATE_K8S_NAMESPACE")
	if namespace == "" {
		namespace = "default"
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", kubeconfig, err)
	}
	client, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	switchertest.Run(t, switchertest.Harness{
		Name: "kubernetes-service-real-cluster",
		Open: func(t *testing.T) switchertest.Instance {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			name := fmt.Sprintf("bgmigrate-test-%08x", rand.Uint32())
			svc := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/created-by": "bgmigrate-test"}},
				Spec: corev1.ServiceSpec{
					Selector: map[string]string{"app": "bgmigrate-test", "color": "blue"},
					Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
				},
			}
			if _, err := client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create service %s/%s: %v", namespace, name, err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := client.CoreV1().Services(namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
					t.Errorf("delete service %s/%s: %v", namespace, name, err)
				}
			})
			s, err := switcher.Open(ctx, "kubernetes://"+namespace+"/"+name)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return switchertest.Instance{Switcher: s}
		},
	})
}
