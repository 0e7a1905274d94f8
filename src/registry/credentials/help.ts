/** For `--help`: where registry credentials come from, per host, first match wins. */
export const credentialsHelp = `Registry credentials, per host (first that has one wins):
  1. Docker config: --registry-config FILE, else $DOCKER_CONFIG/config.json, else
     ~/.docker/config.json. credHelpers[host] runs docker-credential-NAME get; else auths[host]
     (auth, username/password, or identitytoken); else credsStore runs its helper. Keys may be
     written host, https://host or https://host/v1/. A missing file means no entries; a
     malformed one (or an unreadable --registry-config) is an error.
  2. Google hosts (gcr.io, *.gcr.io, *-docker.pkg.dev, *.pkg.dev): an OAuth access token as the
     password of oauth2accesstoken, from $GOOGLE_APPLICATION_CREDENTIALS, else gcloud's
     application-default credentials ($CLOUDSDK_CONFIG or ~/.config/gcloud), each a
     service_account key or an authorized_user; else the GCE/GKE metadata server
     ($GCE_METADATA_HOST overrides its address). Tokens are cached and refreshed before expiry.
  3. Anonymous.
`;
