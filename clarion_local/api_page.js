// The API page: Swagger UI on /openapi.json. A link may carry a token in its fragment (/docs#token=...): it is
// filled in as the Authorization header (scheme clientToken) and taken out of the address bar and history first.
(function () {
  'use strict';
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token !== null) {
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  const ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    validatorUrl: null, // no badge fetched from another host
    onComplete: function () {
      if (token) {
        ui.preauthorizeApiKey('clientToken', token);
      }
    },
  });
  window.ui = ui;
})();
