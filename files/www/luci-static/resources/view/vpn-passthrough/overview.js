'use strict';
'require view';
'require form';

return view.extend({
	render: function() {
		var m = new form.Map('vpn-passthrough', _('VPN Passthrough'),
			_('Let VPN clients inside your network reach VPN servers outside.'));
		var s = m.section(form.NamedSection, 'globals', 'globals');

		s.option(form.Flag, 'enabled', _('Enabled'));

		return m.render();
	}
});
