import { describe, expect, it } from 'vitest';
import { CATALOG } from './catalog.js';
import { keySourcePath, readKeyField } from './key-readers.js';

/** As Sonarr 4 writes it (ConfigFileProvider through XDocument.Save). */
const SONARR_CONFIG = `<Config>
  <BindAddress>*</BindAddress>
  <Port>8989</Port>
  <SslPort>9898</SslPort>
  <EnableSsl>False</EnableSsl>
  <LaunchBrowser>True</LaunchBrowser>
  <!-- <ApiKey>commented0ut</ApiKey> -->
  <ApiKey>
    0f1e2d3c4b5a69788796a5b4c3d2e1f0
  </ApiKey>
  <AuthenticationMethod>Forms</AuthenticationMethod>
  <AuthenticationRequired>DisabledForLocalAddresses</AuthenticationRequired>
  <Branch>main</Branch>
  <LogLevel>info</LogLevel>
  <UrlBase></UrlBase>
  <InstanceName>Sonarr</InstanceName>
</Config>
`;

/** A ConfigObj file as SABnzbd 4 writes it: a server subsection before [misc] has a key of the same name. */
const SABNZBD_INI = `__version__ = 19
__encoding__ = utf-8
[misc]
helpful_warnings = 1
host = 127.0.0.1
port = 8080
# api_key = not-this-one
api_key = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
nzb_key = 11112222333344445555666677778888
[servers]
[[news.example.com]]
name = news.example.com
api_key = subsection-is-not-misc
[categories]
[[*]]
name = *
`;

/** Bazarr's config/config.yaml (Dynaconf through PyYAML): other sections have an apikey too. */
const BAZARR_YAML = `general:
  port: 6767
  base_url: ''
auth:
  type: null
  apikey: 1234e5
  username: ''
sonarr:
  apikey: sonarr-key-not-bazarrs
`;

describe('reading an application\'s key from its config file', () => {
  it('reads the ApiKey element of an *arr config.xml, trimmed, outside comments', () => {
    expect(readKeyField(SONARR_CONFIG, 'xml', 'ApiKey')).toBe('0f1e2d3c4b5a69788796a5b4c3d2e1f0');
    expect(readKeyField('<Config><ApiKey>a&amp;b</ApiKey></Config>', 'xml', 'ApiKey')).toBe('a&b');
    expect(readKeyField('<Config><ApiKey><![CDATA[cdata-key]]></ApiKey></Config>', 'xml', 'ApiKey')).toBe('cdata-key');
  });

  it('finds no key where the app has not written one yet, or the element is empty or not text', () => {
    expect(readKeyField('<Config><Port>8989</Port></Config>', 'xml', 'ApiKey')).toBeUndefined();
    expect(readKeyField('<Config><ApiKey /></Config>', 'xml', 'ApiKey')).toBeUndefined();
    expect(readKeyField('<Config><ApiKey>   </ApiKey></Config>', 'xml', 'ApiKey')).toBeUndefined();
    expect(readKeyField('<Config><ApiKey><x>1</x></ApiKey></Config>', 'xml', 'ApiKey')).toBeUndefined();
    expect(readKeyField('', 'xml', 'ApiKey')).toBeUndefined();
    // An element whose name only begins with the one wanted is another element.
    expect(readKeyField('<Config><ApiKeyOld>x</ApiKeyOld></Config>', 'xml', 'ApiKey')).toBeUndefined();
  });

  it('reads [misc] api_key of sabnzbd.ini, unquoted, and never a subsection\'s key of that name', () => {
    expect(readKeyField(SABNZBD_INI, 'ini', 'misc.api_key')).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90');
    expect(readKeyField(SABNZBD_INI, 'ini', 'misc.nzb_key')).toBe('11112222333344445555666677778888');
    expect(readKeyField('[servers]\n[[x]]\napi_key = nope\n', 'ini', 'servers.api_key')).toBeUndefined();
    expect(readKeyField('[misc]\napi_key = abc # a comment\n', 'ini', 'misc.api_key')).toBe('abc');
    expect(readKeyField('[misc]\napi_key = ""\n', 'ini', 'misc.api_key')).toBeUndefined();
    expect(readKeyField('[other]\napi_key = x\n', 'ini', 'misc.api_key')).toBeUndefined();
  });

  it('reads auth.apikey of Bazarr\'s config.yaml as written, never as a number', () => {
    expect(readKeyField(BAZARR_YAML, 'yaml', 'auth.apikey')).toBe('1234e5');
    expect(readKeyField(BAZARR_YAML, 'yaml', 'sonarr.apikey')).toBe('sonarr-key-not-bazarrs');
    expect(readKeyField('auth:\n  apikey: \'\'\n', 'yaml', 'auth.apikey')).toBeUndefined();
    expect(readKeyField('auth: [1, 2]\n', 'yaml', 'auth.apikey')).toBeUndefined();
    expect(readKeyField('auth: {apikey: [unclosed\n', 'yaml', 'auth.apikey')).toBeUndefined();
  });

  it('finds each catalog key file in the service\'s state directory', () => {
    const paths = Object.fromEntries(CATALOG.map((s) => [s.name, keySourcePath(s) ?? null]));
    expect(paths).toEqual({
      jellyfin: null,
      sonarr: '/var/lib/sonarr/.config/NzbDrone/config.xml',
      radarr: '/var/lib/radarr/.config/Radarr/config.xml',
      prowlarr: '/var/lib/private/prowlarr/config.xml',
      bazarr: '/var/lib/bazarr/config/config.yaml',
      transmission: null,
      sabnzbd: '/var/lib/sabnzbd/sabnzbd.ini',
      jellyseerr: null,
    });
    expect(keySourcePath({ state_dir: null, key_source: { file: 'config.xml', format: 'xml', field: 'ApiKey' } })).toBeUndefined();
    expect(keySourcePath({ state_dir: null, key_source: { file: '/etc/app/key.yaml', format: 'yaml', field: 'key' } })).toBe('/etc/app/key.yaml');
  });
});
