; Inno Setup 6 script: the Gandrange Desk installer for Windows, built from the PyInstaller folder.
;
;   pyinstaller --noconfirm build_installer.spec          (dist\GandrangeDesk\)
;   ISCC.exe /DAppVersion=0.1.0 packaging\windows\gandrange-desk.iss
;   -> dist\installer\GandrangeDesk-0.1.0-installation.exe
;
; UTF-8 with a BOM (accents in the shortcuts). French, per-user (no administrator rights: {autopf} is %LOCALAPPDATA%\Programs in this mode),
; Start-menu shortcuts, and an uninstaller that removes the program only: the base, the backups,
; the log (%LOCALAPPDATA%\Commune de Gandrange\gandrange-desk) and the workstation settings
; (%APPDATA%\Commune de Gandrange\gandrange-desk) are never installed by this script, so they stay.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Gandrange Desk"
#define SourceDir "..\..\dist\GandrangeDesk"

[Setup]
; A fixed AppId: reinstalling or upgrading replaces the same program.
AppId={{6F0B7C52-3E1D-4B8A-9C41-2D5E7A1F9B63}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Commune de Gandrange
AppComments=Bureau périscolaire du Portail Famille : familles, réservations, validation, facturation.
VersionInfoVersion={#AppVersion}
VersionInfoCompany=Commune de Gandrange
VersionInfoDescription=Installation de {#AppName}
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist\installer
OutputBaseFilename=GandrangeDesk-{#AppVersion}-installation
SetupIconFile=..\..\resources\icons\gandrange-desk.ico
UninstallDisplayIcon={app}\GandrangeDesk.exe
UninstallDisplayName={#AppName}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; Close a running Gandrange Desk before replacing its files.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "french"; MessagesFile: "compiler:Languages\French.isl"

[Tasks]
Name: "desktopicon"; Description: "Créer une icône sur le &bureau"; GroupDescription: "Icônes supplémentaires :"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\GandrangeDesk.exe"; Comment: "Bureau périscolaire de Gandrange"
Name: "{autoprograms}\{#AppName} — journal"; Filename: "{localappdata}\Commune de Gandrange\gandrange-desk\Logs"; Comment: "Dossier du journal de Gandrange Desk"
Name: "{autoprograms}\Désinstaller {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\GandrangeDesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\GandrangeDesk.exe"; Description: "Lancer {#AppName}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the program itself may leave inside its own folder; never the user's data.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
