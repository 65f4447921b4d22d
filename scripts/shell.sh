#!/usr/bin/env bash
# make shell: a bash shell in which this checkout's collection is ready to use, against a local
# AWS endpoint only:
#   - ANSIBLE_COLLECTIONS_PATH names $CACHE/collections (a fresh copy of the checkout, with
#     amazon.aws beside it: scripts/setup-env.sh runs first);
#   - the virtualenv's bin/ comes first on PATH, ANSIBLE_PYTHON_INTERPRETER names its Python;
#   - a local endpoint (moto) of the shell's own runs, state in $CACHE/shell-aws; AWS_ENDPOINT_URL
#     points every boto3 client at it (the modules' too), with dummy credentials, region
#     us-east-1 and no profile or credentials file of the user's;
#   - leaving the shell (exit, end of input) stops the endpoint.
# On a terminal the shell is interactive (~/.bashrc is read, then these settings again, so that
# an rc file that changes PATH cannot hide the virtualenv); otherwise it runs the commands of
# standard input:  echo 'ansible-doc -l layerwise.aws' | make shell
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
cd "$root"
bash scripts/setup-env.sh >&2 < /dev/null

state_dir=$CACHE/shell-aws
endpoint=$("$VENV/bin/python" scripts/local_aws.py start --state-dir "$state_dir" < /dev/null)
trap '"$VENV/bin/python" "$root/scripts/local_aws.py" stop --state-dir "$state_dir"' EXIT

honour_no_color
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
settings=$CACHE/shell-settings.sh
cat > "$settings" <<SETTINGS
# Written by scripts/shell.sh for one make shell session.
export VIRTUAL_ENV=$(printf %q "$VENV")
export PATH=$(printf %q "$VENV/bin"):"\$PATH"
export ANSIBLE_COLLECTIONS_PATH=$(printf %q "$COLLECTIONS")
export ANSIBLE_PYTHON_INTERPRETER=$(printf %q "$VENV/bin/python")
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export AWS_ENDPOINT_URL=$(printf %q "$endpoint")
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
SETTINGS
# shellcheck source=/dev/null
. "$settings"

cat >&2 <<BANNER
== make shell: layerwise.aws from $COLLECTIONS (a copy of this checkout)
   ansible-doc, ansible-playbook and python from $VENV
   every AWS call goes to the local endpoint $endpoint (dummy credentials, us-east-1)
   try: ansible-doc layerwise.aws.lambda_layer_version   (README.md, "Use it yourself")
   exit stops the endpoint
BANNER

set +e
if [ -t 0 ]; then
    rcfile=$CACHE/shell-bashrc
    cat > "$rcfile" <<RC
[ -f ~/.bashrc ] && . ~/.bashrc
. $(printf %q "$settings")
PS1="(layerwise.aws) \${PS1-\\\$ }"
RC
    bash --rcfile "$rcfile" -i
else
    bash -s
fi
status=$?
echo "== make shell: stopping the local endpoint" >&2
exit "$status"
