#!/usr/bin/env bash
# k8s-testenv.sh: a real Kubernetes control plane on loopback for the tests
# of switcher/kubernetes and internal/cli (deploy_k8s_test.go):
#   etcd (Debian's etcd-server) + kube-apiserver + kube-controller-manager,
#   built once from k8s.io/kubernetes through the Go module proxy and cached
#   under ~/.cache/k8s-testenv, + the Gateway API CRDs.
#
# There is no kubelet, scheduler or kube-proxy: Pods are API objects only.
# Tests bind them to the Node this script creates (label
# bgmigrate.dev/k8s-testenv=kubelet-less, which also tells the tests that
# KUBECONFIG names this control plane and not a real cluster), give them
# documentation-range IPs and mark them Ready through the status
# subresource; the endpointslice controller then fills the Services'
# EndpointSlices as in a real cluster. The node-lifecycle controller does
# not run (it would mark those Pods NotReady).
#
# Usage: scripts/k8s-testenv.sh build | up | status | env | down
#   build   build the binaries into $CACHE/v$K8S_VERSION/bin unless there
#           (cold: about 10-15 minutes on 2 idle cores, 30 with them busy;
#           ~2.5 GiB of memory; then up takes about 15 s)
#   up      build if needed, start the control plane, install the CRDs and
#           the Node; a control plane already up and healthy is kept
#   status  exit 0 when the control plane answers
#   env     print the export of KUBECONFIG
#   down    stop what up started (by PID files) and delete its data
#
#   eval "$(scripts/k8s-testenv.sh env)"   # then go test ./switcher/kubernetes/...
#
# Only kubectl-free tools are used (curl, jq, openssl, unzip), installed
# from Debian's packages when missing and running as root.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}                 # k8s.io/kubernetes v$K8S_VERSION
STAGING_VERSION=v0.${K8S_VERSION#1.}               # k8s.io/api etc.: v0.37.2
GATEWAY_API_VERSION=${GATEWAY_API_VERSION:-v1.7.0} # sigs.k8s.io/gateway-api
CACHE=${K8S_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-testenv}
BIN=$CACHE/v$K8S_VERSION/bin
RUN=${K8S_TESTENV_DIR:-/tmp/k8s-testenv}
ETCD_PORT=${ETCD_PORT:-23791}
API_PORT=${API_PORT:-16443}
TOKEN=${K8S_TESTENV_TOKEN:-testenv-admin-token}
NODE=k8s-testenv-node
API=https://127.0.0.1:$API_PORT
export KUBECONFIG=$RUN/kubeconfig

log() { echo "[k8s-testenv $(date +%T)] $*" >&2; }

need_tools() { # Debian packages for missing tools
  local t pk=()
  for t in jq:jq unzip:unzip openssl:openssl curl:curl etcd:etcd-server flock:util-linux; do
    command -v "${t%%:*}" >/dev/null || pk+=("${t#*:}")
  done
  [[ ${#pk[@]} -eq 0 ]] && return
  [[ $(id -u) == 0 ]] || { log "missing ${pk[*]}: install them (apt-get install ${pk[*]})"; exit 1; }
  log "installing ${pk[*]}"
  local o=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
  apt-get "${o[@]}" update -qq && DEBIAN_FRONTEND=noninteractive apt-get "${o[@]}" install -y -qq "${pk[@]}" >/dev/null
}

# moddir MODULE@VERSION: its source dir from the module cache. `go mod download -json` exits 0 but
# omits .Dir (sets .Error) when the module's go.mod needs a newer Go than the local toolchain
# (gateway-api v1.7.0 says "go 1.27.0"); then unpack the downloaded .Zip ourselves.
moddir() {
  local j d z
  j=$(cd / && GOFLAGS=-mod=mod go mod download -json "$1")
  d=$(jq -r '.Dir // empty' <<<"$j")
  if [[ -z $d || ! -d $d ]]; then
    z=$(jq -r '.Zip // empty' <<<"$j")
    [[ -f $z ]] || { echo "$j" >&2; return 1; }
    d=$CACHE/src/$1
    if [[ ! -d $d ]]; then
      rm -rf "$d.tmp" && mkdir -p "$d.tmp" && unzip -q "$z" -d "$d.tmp"
      mv "$d.tmp/$1" "$d" && rm -rf "$d.tmp"
    fi
  fi
  echo "$d"
}

build() {
  local comps=(kube-apiserver kube-controller-manager) need=() c
  mkdir -p "$CACHE"
  exec 8>"$CACHE/build.lock" # one build at a time (a background build, then up)
  flock 8
  for c in "${comps[@]}"; do [[ -x $BIN/$c ]] || need+=("$c"); done
  [[ ${#need[@]} -eq 0 ]] && { log "binaries cached in $BIN"; return; }

  local work dir m started
  started=$(date +%s)
  work=$(mktemp -d /tmp/k8s-build.XXXXXX)
  log "downloading k8s.io/kubernetes@v$K8S_VERSION"
  dir=$(moddir "k8s.io/kubernetes@v$K8S_VERSION")
  cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
  cd "$work/src"
  rm -f go.work go.work.sum # go.work points into ./staging, which the module zip lacks
  # Point every ./staging/src/k8s.io/NAME replace at the published module k8s.io/NAME@v0.X.Y;
  # drop replaces of modules the main module does not require (sample-controller etc. are unpublished).
  for m in $(go mod edit -json | jq -r '.Replace[] | select(.New.Path|startswith("./staging")) | .Old.Path'); do
    if go mod edit -json | jq -e --arg m "$m" '.Require[] | select(.Path==$m)' >/dev/null; then
      go mod edit -replace="$m=$m@$STAGING_VERSION"
    else
      go mod edit -dropreplace="$m"
    fi
  done
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION"
  ld+=" -X k8s.io/component-base/version.gitMajor=${K8S_VERSION%%.*}"
  ld+=" -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  ld+=" -X k8s.io/component-base/version.gitTreeState=clean"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  mkdir -p "$BIN"
  for c in "${need[@]}"; do
    log "building $c (cold: kube-apiserver ~8-25 min on 2 cores, then ~5 min each; ~2.5 GiB RAM)"
    # Separate GOCACHE (~3.6 GiB, deleted afterwards) unless K8S_TESTENV_GOCACHE is set.
    GOFLAGS="-mod=mod -buildvcs=false" GOCACHE="${K8S_TESTENV_GOCACHE:-$work/gocache}" \
      nice -n 19 go build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "./cmd/$c"
    mv "$BIN/$c.tmp" "$BIN/$c"
  done
  cd / && rm -rf "$work"
  log "built $(ls "$BIN" | tr '\n' ' ')in $(($(date +%s) - started))s"
}

# api ARGS...: curl against the API server as the admin.
api() { curl -sSf --cacert "$RUN/pki/ca.crt" -H "Authorization: Bearer $TOKEN" "$@"; }

# apply PATH BODY-FILE|-: server-side apply of a YAML or JSON object.
apply() {
  api -o /dev/null -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$2" \
    "$API$1?fieldManager=k8s-testenv&force=true"
}

alive() { [[ -f $RUN/$1.pid ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

healthy() {
  alive etcd && alive kube-apiserver && alive kube-controller-manager &&
    [[ -f $RUN/pki/ca.crt ]] && api -o /dev/null "$API/readyz" 2>/dev/null
}

wait_for() { # wait_for SECONDS PIDFILE CMD...
  local t=$1 pidf=$2 i
  shift 2
  for ((i = 0; i < t * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$pidf")" 2>/dev/null || { log "process died, see ${pidf%.pid}.log"; tail -20 "${pidf%.pid}.log" >&2; return 1; }
    sleep 0.1
  done
  log "timeout: $*"
  return 1
}

start() { # start NAME CMD... (background, PID file, log; detached from the caller's stdio)
  local name=$1
  shift
  setsid nohup "$@" </dev/null >"$RUN/$name.log" 2>&1 8>&- 9>&- &
  echo $! >"$RUN/$name.pid"
}

certs() {
  local p=$RUN/pki
  mkdir -p "$p"
  [[ -f $p/apiserver.crt ]] && return
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" -days 3650 -subj /CN=testenv-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$p/apiserver.key" -out "$p/apiserver.csr" -subj /CN=kube-apiserver 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$p/ext.cnf"
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
    -out "$p/apiserver.crt" -days 3650 -extfile "$p/ext.cnf" 2>/dev/null
}

# objects installs the Gateway API CRDs (server-side apply of each file; the
# ValidatingAdmissionPolicy file is left out) and the kubelet-less Node.
objects() {
  local gw f base name
  gw=$(moddir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
  for f in "$gw"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
    base=$(basename "$f" .yaml) # gateway.networking.k8s.io_httproutes
    [[ $base == *_vap_* ]] && continue
    name=${base#*_}.${base%%_*}
    apply "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" "$f"
  done
  wait_for 60 "$RUN/kube-apiserver.pid" established httproutes.gateway.networking.k8s.io
  # Discovery of the new group can lag a moment behind Established.
  wait_for 30 "$RUN/kube-apiserver.pid" api -o /dev/null "$API/apis/gateway.networking.k8s.io/v1/httproutes"
  apply "/api/v1/nodes/$NODE" - <<EOF
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "$NODE", "labels": {"bgmigrate.dev/k8s-testenv": "kubelet-less", "kubernetes.io/hostname": "$NODE"}}}
EOF
}

established() {
  api "$API/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$1" |
    jq -e '.status.conditions[]? | select(.type == "Established" and .status == "True")' >/dev/null
}

up() {
  mkdir -p "$RUN"
  exec 9>"$RUN/up.lock" # one up at a time
  flock 9
  if healthy; then
    objects
    log "already up: export KUBECONFIG=$KUBECONFIG"
    return
  fi
  down 2>/dev/null # what is left of a control plane that died
  build
  certs
  local p=$RUN/pki started
  started=$(date +%s)
  echo "$TOKEN,admin,admin-uid,system:masters" >"$p/tokens.csv"
  cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: testenv, cluster: {server: "$API", certificate-authority: "$p/ca.crt"}}]
users: [{name: admin, user: {token: "$TOKEN"}}]
contexts: [{name: testenv, context: {cluster: testenv, user: admin}}]
current-context: testenv
EOF

  rm -rf "$RUN/etcd-data"
  start etcd etcd --name testenv --data-dir "$RUN/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" \
    --initial-cluster "testenv=http://127.0.0.1:$((ETCD_PORT + 10))" --unsafe-no-fsync --log-level warn
  wait_for 20 "$RUN/etcd.pid" curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --token-auth-file="$p/tokens.csv" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --disable-admission-plugins=ServiceAccount --allow-privileged=true \
    --cert-dir="$RUN/apiserver-certs"
  wait_for 90 "$RUN/kube-apiserver.pid" api -o /dev/null "$API/readyz"
  log "kube-apiserver ready"

  # Only the controllers the tests need; no node-lifecycle (would mark Pods on kubelet-less Nodes NotReady).
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG" --leader-elect=false --secure-port=0 \
    --controllers=endpoints-controller,endpointslice-controller,endpointslice-mirroring-controller,namespace-controller,garbage-collector-controller \
    --endpoint-updates-batch-period=0s --endpointslice-updates-batch-period=0s

  objects
  alive kube-controller-manager || { log "kube-controller-manager died, see $RUN/kube-controller-manager.log"; return 1; }
  log "up in $(($(date +%s) - started))s; Gateway API $GATEWAY_API_VERSION CRDs installed. export KUBECONFIG=$KUBECONFIG"
}

down() {
  local n pid i
  for n in kube-controller-manager kube-apiserver etcd; do
    [[ -f $RUN/$n.pid ]] || continue
    pid=$(cat "$RUN/$n.pid")
    if kill "$pid" 2>/dev/null; then
      for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$n.pid"
  done
  rm -rf "$RUN/etcd-data"
  log "down"
}

case ${1:-} in
build) need_tools && build ;;
up) # (not `up || ...`: that would switch off set -e inside up)
  need_tools
  trap 'rc=$?; [[ $rc == 0 ]] || { log "up failed (rc=$rc); logs in $RUN"; down; }' EXIT
  up
  ;;
status) healthy ;;
env) echo "export KUBECONFIG=$KUBECONFIG" ;;
down) down ;;
*)
  echo "usage: $0 build|up|status|env|down" >&2
  exit 2
  ;;
esac
