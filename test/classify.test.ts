import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyPeer, PEER_TYPE_RULES } from '../src/enrich/classify';
import { toUtc } from '../src/ingest/alert-validation';

test('the original table, first match wins', () => {
  const cases: Array<[string, string]> = [
    ['WebHoneypot-01', 'Webpage'], ['dionaea-community-01', 'Network(Dionaea)'], ['sensor.dio', 'Network(Dionaea)'],
    ['honeytrap', 'Network(honeytrap)'], ['x.ht', 'Network(honeytrap)'], ['kippo-1', 'SSH/console(cowrie)'],
    ['cowrie-community-01', 'SSH/console(cowrie)'], ['glastopf-community-01', 'Webpage'], ['tanner-1', 'Webpage'],
    ['vnclowpot', 'VNC(vnclowpot)'], ['rdpy-1', 'RDP(rdpy)'], ['mailoney-1', 'E-Mail(mailoney)'],
    ['heralding-community-01', 'Passwords(heralding)'], ['ciscoasa-community-01', 'Network(cisco-asa)'],
    ['elasticpot-1', 'Service(ES)'], ['suricata-community-01', 'Network(suricata)'], ['medpot', 'Service(Medicine)'],
    ['emobility', 'Service(emobility)'], ['conpot-community-01', 'Industrial(conpot)'], ['glutton', 'Network(glutton)'],
    // "honeytrap" comes before "conpot": an id naming both is honeytrap.
    ['honeytrap-conpot', 'Network(honeytrap)'],
  ];
  for (const [id, peerType] of cases) assert.equal(classifyPeer(id, undefined), peerType, id);
});

test('every honeypot of current ewsposter has a class in Category(name) style', () => {
  const shipped = ['adbhoney', 'beelzebub', 'citrix', 'ddospot', 'dicompot', 'endlessh', 'fatt', 'galah', 'gopot',
    'h0neytr4p', 'hellpot', 'honeyaml', 'honeypots', 'honeypy', 'honeysap', 'ipphoney', 'log4pot', 'miniprint',
    'redishoneypot', 'sentrypeer', 'wordpot'];
  for (const name of shipped) {
    const peerType = classifyPeer(`${name}-community-01`, undefined);
    assert.match(peerType, /^[A-Za-z/-]+\([\w-]+\)$/, name);
  }
  assert.equal(classifyPeer('redishoneypot-01', undefined), 'Service(redishoneypot)');
  assert.equal(classifyPeer('sentrypeer', undefined), 'VoIP(sentrypeer)');
  assert.ok(PEER_TYPE_RULES.length >= 37);
});

test('the description classifies when the analyzer id does not; else Unclassified', () => {
  assert.equal(classifyPeer('MSTest4', 'WebHoneypot : Glastopf v3.1'), 'Webpage');
  assert.equal(classifyPeer('sensor-7', 'Telnet Honeypot Cowrie'), 'SSH/console(cowrie)');
  assert.equal(classifyPeer('sensor-7', 'something else'), 'Unclassified');
  assert.equal(classifyPeer('sensor-7', undefined), 'Unclassified');
});

test('CreateTime with tz to UTC', () => {
  assert.equal(toUtc('2017-02-22 03:34:58', '+0230'), '2017-02-22 01:04:58');
  assert.equal(toUtc('2017-02-22 03:34:58', '-0200'), '2017-02-22 05:34:58');
  assert.equal(toUtc('2017-01-01 00:30:00', '+0100'), '2016-12-31 23:30:00', 'across a year boundary');
  assert.equal(toUtc('2016-02-29 12:00:00', undefined), '2016-02-29 12:00:00', 'no tz: already UTC');
  assert.equal(toUtc('2017-02-22 03:34:58', '+02:00'), '2017-02-22 01:34:58');
  for (const [time, tz] of [['2017-02-29 12:00:00', '+0000'], ['2017-13-01 00:00:00', undefined], ['yesterday', undefined],
    ['2017-02-22 24:00:00', undefined], ['2017-02-22 03:34:58', '+9999'], ['2017-02-22 03:34:58', 'CET'], ['0017-02-22 03:34:58', undefined]] as const) {
    assert.equal(toUtc(time, tz), null, `${time} ${tz}`);
  }
});
