// @grafana/ui icons load their SVG asynchronously through react-inlinesvg, which in jsdom ends in
// state updates after the test ("not wrapped in act"). An empty element keeps icons inert.
const React = require('react');

module.exports = function InlineSvgStub(props) {
  return React.createElement('svg', { 'data-testid': 'icon', className: props.className });
};
module.exports.default = module.exports;
