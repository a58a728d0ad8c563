# Generated from ui/first_run.ui by int_desk.app.build_forms - do not edit.
# -*- coding: utf-8 -*-


from PySide6.QtCore import (QCoreApplication, QDate, QDateTime, QLocale,
    QMetaObject, QObject, QPoint, QRect,
    QSize, QTime, QUrl, Qt)
from PySide6.QtGui import (QBrush, QColor, QConicalGradient, QCursor,
    QFont, QFontDatabase, QGradient, QIcon,
    QImage, QKeySequence, QLinearGradient, QPainter,
    QPalette, QPixmap, QRadialGradient, QTransform)
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QCommandLinkButton,
    QDialog, QFormLayout, QGroupBox, QHBoxLayout,
    QLabel, QLineEdit, QProgressBar, QPushButton,
    QSizePolicy, QSpacerItem, QStackedWidget, QVBoxLayout,
    QWidget)

class Ui_FirstRunDialog(object):
    def setupUi(self, FirstRunDialog):
        if not FirstRunDialog.objectName():
            FirstRunDialog.setObjectName(u"FirstRunDialog")
        FirstRunDialog.resize(640, 520)
        self.mainLayout = QVBoxLayout(FirstRunDialog)
        self.mainLayout.setObjectName(u"mainLayout")
        self.pages = QStackedWidget(FirstRunDialog)
        self.pages.setObjectName(u"pages")
        self.choosePage = QWidget()
        self.choosePage.setObjectName(u"choosePage")
        self.chooseLayout = QVBoxLayout(self.choosePage)
        self.chooseLayout.setObjectName(u"chooseLayout")
        self.welcomeTitle = QLabel(self.choosePage)
        self.welcomeTitle.setObjectName(u"welcomeTitle")
        self.welcomeTitle.setWordWrap(True)

        self.chooseLayout.addWidget(self.welcomeTitle)

        self.welcomeText = QLabel(self.choosePage)
        self.welcomeText.setObjectName(u"welcomeText")
        self.welcomeText.setWordWrap(True)

        self.chooseLayout.addWidget(self.welcomeText)

        self.connectButton = QCommandLinkButton(self.choosePage)
        self.connectButton.setObjectName(u"connectButton")

        self.chooseLayout.addWidget(self.connectButton)

        self.createButton = QCommandLinkButton(self.choosePage)
        self.createButton.setObjectName(u"createButton")

        self.chooseLayout.addWidget(self.createButton)

        self.demoButton = QCommandLinkButton(self.choosePage)
        self.demoButton.setObjectName(u"demoButton")

        self.chooseLayout.addWidget(self.demoButton)

        self.chooseSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.chooseLayout.addItem(self.chooseSpacer)

        self.privacyNote = QLabel(self.choosePage)
        self.privacyNote.setObjectName(u"privacyNote")
        self.privacyNote.setWordWrap(True)

        self.chooseLayout.addWidget(self.privacyNote)

        self.pages.addWidget(self.choosePage)
        self.createPage = QWidget()
        self.createPage.setObjectName(u"createPage")
        self.createLayout = QVBoxLayout(self.createPage)
        self.createLayout.setObjectName(u"createLayout")
        self.createTitle = QLabel(self.createPage)
        self.createTitle.setObjectName(u"createTitle")
        self.createTitle.setWordWrap(True)

        self.createLayout.addWidget(self.createTitle)

        self.createIntro = QLabel(self.createPage)
        self.createIntro.setObjectName(u"createIntro")
        self.createIntro.setWordWrap(True)

        self.createLayout.addWidget(self.createIntro)

        self.aboutYouGroup = QGroupBox(self.createPage)
        self.aboutYouGroup.setObjectName(u"aboutYouGroup")
        self.aboutYouForm = QFormLayout(self.aboutYouGroup)
        self.aboutYouForm.setObjectName(u"aboutYouForm")
        self.nameLabel = QLabel(self.aboutYouGroup)
        self.nameLabel.setObjectName(u"nameLabel")

        self.aboutYouForm.setWidget(0, QFormLayout.ItemRole.LabelRole, self.nameLabel)

        self.nameEdit = QLineEdit(self.aboutYouGroup)
        self.nameEdit.setObjectName(u"nameEdit")

        self.aboutYouForm.setWidget(0, QFormLayout.ItemRole.FieldRole, self.nameEdit)

        self.roleLabel = QLabel(self.aboutYouGroup)
        self.roleLabel.setObjectName(u"roleLabel")

        self.aboutYouForm.setWidget(1, QFormLayout.ItemRole.LabelRole, self.roleLabel)

        self.roleCombo = QComboBox(self.aboutYouGroup)
        self.roleCombo.setObjectName(u"roleCombo")

        self.aboutYouForm.setWidget(1, QFormLayout.ItemRole.FieldRole, self.roleCombo)

        self.teamLabel = QLabel(self.aboutYouGroup)
        self.teamLabel.setObjectName(u"teamLabel")

        self.aboutYouForm.setWidget(2, QFormLayout.ItemRole.LabelRole, self.teamLabel)

        self.teamEdit = QLineEdit(self.aboutYouGroup)
        self.teamEdit.setObjectName(u"teamEdit")

        self.aboutYouForm.setWidget(2, QFormLayout.ItemRole.FieldRole, self.teamEdit)

        self.neighbourhoodLabel = QLabel(self.aboutYouGroup)
        self.neighbourhoodLabel.setObjectName(u"neighbourhoodLabel")

        self.aboutYouForm.setWidget(3, QFormLayout.ItemRole.LabelRole, self.neighbourhoodLabel)

        self.neighbourhoodEdit = QLineEdit(self.aboutYouGroup)
        self.neighbourhoodEdit.setObjectName(u"neighbourhoodEdit")

        self.aboutYouForm.setWidget(3, QFormLayout.ItemRole.FieldRole, self.neighbourhoodEdit)


        self.createLayout.addWidget(self.aboutYouGroup)

        self.protectGroup = QGroupBox(self.createPage)
        self.protectGroup.setObjectName(u"protectGroup")
        self.protectForm = QFormLayout(self.protectGroup)
        self.protectForm.setObjectName(u"protectForm")
        self.locationLabel = QLabel(self.protectGroup)
        self.locationLabel.setObjectName(u"locationLabel")

        self.protectForm.setWidget(0, QFormLayout.ItemRole.LabelRole, self.locationLabel)

        self.locationRow = QHBoxLayout()
        self.locationRow.setObjectName(u"locationRow")
        self.locationEdit = QLineEdit(self.protectGroup)
        self.locationEdit.setObjectName(u"locationEdit")

        self.locationRow.addWidget(self.locationEdit)

        self.browseButton = QPushButton(self.protectGroup)
        self.browseButton.setObjectName(u"browseButton")

        self.locationRow.addWidget(self.browseButton)


        self.protectForm.setLayout(0, QFormLayout.ItemRole.FieldRole, self.locationRow)

        self.passphraseLabel = QLabel(self.protectGroup)
        self.passphraseLabel.setObjectName(u"passphraseLabel")

        self.protectForm.setWidget(1, QFormLayout.ItemRole.LabelRole, self.passphraseLabel)

        self.passphraseEdit = QLineEdit(self.protectGroup)
        self.passphraseEdit.setObjectName(u"passphraseEdit")
        self.passphraseEdit.setEchoMode(QLineEdit.Password)

        self.protectForm.setWidget(1, QFormLayout.ItemRole.FieldRole, self.passphraseEdit)

        self.strengthRow = QHBoxLayout()
        self.strengthRow.setObjectName(u"strengthRow")
        self.strengthBar = QProgressBar(self.protectGroup)
        self.strengthBar.setObjectName(u"strengthBar")
        self.strengthBar.setMaximum(4)
        self.strengthBar.setValue(0)
        self.strengthBar.setTextVisible(False)

        self.strengthRow.addWidget(self.strengthBar)

        self.strengthLabel = QLabel(self.protectGroup)
        self.strengthLabel.setObjectName(u"strengthLabel")
        self.strengthLabel.setWordWrap(True)

        self.strengthRow.addWidget(self.strengthLabel)


        self.protectForm.setLayout(2, QFormLayout.ItemRole.SpanningRole, self.strengthRow)

        self.confirmLabel = QLabel(self.protectGroup)
        self.confirmLabel.setObjectName(u"confirmLabel")

        self.protectForm.setWidget(3, QFormLayout.ItemRole.LabelRole, self.confirmLabel)

        self.confirmEdit = QLineEdit(self.protectGroup)
        self.confirmEdit.setObjectName(u"confirmEdit")
        self.confirmEdit.setEchoMode(QLineEdit.Password)

        self.protectForm.setWidget(3, QFormLayout.ItemRole.FieldRole, self.confirmEdit)

        self.matchLabel = QLabel(self.protectGroup)
        self.matchLabel.setObjectName(u"matchLabel")
        self.matchLabel.setWordWrap(True)

        self.protectForm.setWidget(4, QFormLayout.ItemRole.SpanningRole, self.matchLabel)

        self.keyringCheck = QCheckBox(self.protectGroup)
        self.keyringCheck.setObjectName(u"keyringCheck")

        self.protectForm.setWidget(5, QFormLayout.ItemRole.SpanningRole, self.keyringCheck)


        self.createLayout.addWidget(self.protectGroup)

        self.createErrorLabel = QLabel(self.createPage)
        self.createErrorLabel.setObjectName(u"createErrorLabel")
        self.createErrorLabel.setWordWrap(True)

        self.createLayout.addWidget(self.createErrorLabel)

        self.createSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.createLayout.addItem(self.createSpacer)

        self.createButtons = QHBoxLayout()
        self.createButtons.setObjectName(u"createButtons")
        self.createBackButton = QPushButton(self.createPage)
        self.createBackButton.setObjectName(u"createBackButton")

        self.createButtons.addWidget(self.createBackButton)

        self.createButtonsSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        self.createButtons.addItem(self.createButtonsSpacer)

        self.createWorkspaceButton = QPushButton(self.createPage)
        self.createWorkspaceButton.setObjectName(u"createWorkspaceButton")

        self.createButtons.addWidget(self.createWorkspaceButton)


        self.createLayout.addLayout(self.createButtons)

        self.pages.addWidget(self.createPage)
        self.connectPage = QWidget()
        self.connectPage.setObjectName(u"connectPage")
        self.connectLayout = QVBoxLayout(self.connectPage)
        self.connectLayout.setObjectName(u"connectLayout")
        self.connectTitle = QLabel(self.connectPage)
        self.connectTitle.setObjectName(u"connectTitle")
        self.connectTitle.setWordWrap(True)

        self.connectLayout.addWidget(self.connectTitle)

        self.connectIntro = QLabel(self.connectPage)
        self.connectIntro.setObjectName(u"connectIntro")
        self.connectIntro.setWordWrap(True)

        self.connectLayout.addWidget(self.connectIntro)

        self.connectForm = QFormLayout()
        self.connectForm.setObjectName(u"connectForm")
        self.endpointLabel = QLabel(self.connectPage)
        self.endpointLabel.setObjectName(u"endpointLabel")

        self.connectForm.setWidget(0, QFormLayout.ItemRole.LabelRole, self.endpointLabel)

        self.endpointEdit = QLineEdit(self.connectPage)
        self.endpointEdit.setObjectName(u"endpointEdit")

        self.connectForm.setWidget(0, QFormLayout.ItemRole.FieldRole, self.endpointEdit)

        self.tokenLabel = QLabel(self.connectPage)
        self.tokenLabel.setObjectName(u"tokenLabel")

        self.connectForm.setWidget(1, QFormLayout.ItemRole.LabelRole, self.tokenLabel)

        self.tokenEdit = QLineEdit(self.connectPage)
        self.tokenEdit.setObjectName(u"tokenEdit")

        self.connectForm.setWidget(1, QFormLayout.ItemRole.FieldRole, self.tokenEdit)


        self.connectLayout.addLayout(self.connectForm)

        self.checkRow = QHBoxLayout()
        self.checkRow.setObjectName(u"checkRow")
        self.checkButton = QPushButton(self.connectPage)
        self.checkButton.setObjectName(u"checkButton")

        self.checkRow.addWidget(self.checkButton)

        self.checkSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        self.checkRow.addItem(self.checkSpacer)


        self.connectLayout.addLayout(self.checkRow)

        self.certLabel = QLabel(self.connectPage)
        self.certLabel.setObjectName(u"certLabel")
        self.certLabel.setWordWrap(True)

        self.connectLayout.addWidget(self.certLabel)

        self.connectStatusLabel = QLabel(self.connectPage)
        self.connectStatusLabel.setObjectName(u"connectStatusLabel")
        self.connectStatusLabel.setWordWrap(True)

        self.connectLayout.addWidget(self.connectStatusLabel)

        self.connectErrorLabel = QLabel(self.connectPage)
        self.connectErrorLabel.setObjectName(u"connectErrorLabel")
        self.connectErrorLabel.setWordWrap(True)

        self.connectLayout.addWidget(self.connectErrorLabel)

        self.connectSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.connectLayout.addItem(self.connectSpacer)

        self.connectButtons = QHBoxLayout()
        self.connectButtons.setObjectName(u"connectButtons")
        self.connectBackButton = QPushButton(self.connectPage)
        self.connectBackButton.setObjectName(u"connectBackButton")

        self.connectButtons.addWidget(self.connectBackButton)

        self.connectButtonsSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        self.connectButtons.addItem(self.connectButtonsSpacer)

        self.connectNextButton = QPushButton(self.connectPage)
        self.connectNextButton.setObjectName(u"connectNextButton")

        self.connectButtons.addWidget(self.connectNextButton)


        self.connectLayout.addLayout(self.connectButtons)

        self.pages.addWidget(self.connectPage)
        self.syncPage = QWidget()
        self.syncPage.setObjectName(u"syncPage")
        self.syncLayout = QVBoxLayout(self.syncPage)
        self.syncLayout.setObjectName(u"syncLayout")
        self.syncTitle = QLabel(self.syncPage)
        self.syncTitle.setObjectName(u"syncTitle")
        self.syncTitle.setWordWrap(True)

        self.syncLayout.addWidget(self.syncTitle)

        self.syncIntro = QLabel(self.syncPage)
        self.syncIntro.setObjectName(u"syncIntro")
        self.syncIntro.setWordWrap(True)

        self.syncLayout.addWidget(self.syncIntro)

        self.syncProgress = QProgressBar(self.syncPage)
        self.syncProgress.setObjectName(u"syncProgress")
        self.syncProgress.setValue(0)

        self.syncLayout.addWidget(self.syncProgress)

        self.syncStatusLabel = QLabel(self.syncPage)
        self.syncStatusLabel.setObjectName(u"syncStatusLabel")
        self.syncStatusLabel.setWordWrap(True)

        self.syncLayout.addWidget(self.syncStatusLabel)

        self.syncErrorLabel = QLabel(self.syncPage)
        self.syncErrorLabel.setObjectName(u"syncErrorLabel")
        self.syncErrorLabel.setWordWrap(True)

        self.syncLayout.addWidget(self.syncErrorLabel)

        self.syncSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.syncLayout.addItem(self.syncSpacer)

        self.syncButtons = QHBoxLayout()
        self.syncButtons.setObjectName(u"syncButtons")
        self.syncStopButton = QPushButton(self.syncPage)
        self.syncStopButton.setObjectName(u"syncStopButton")

        self.syncButtons.addWidget(self.syncStopButton)

        self.syncRetryButton = QPushButton(self.syncPage)
        self.syncRetryButton.setObjectName(u"syncRetryButton")

        self.syncButtons.addWidget(self.syncRetryButton)

        self.syncButtonsSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        self.syncButtons.addItem(self.syncButtonsSpacer)

        self.finishButton = QPushButton(self.syncPage)
        self.finishButton.setObjectName(u"finishButton")

        self.syncButtons.addWidget(self.finishButton)


        self.syncLayout.addLayout(self.syncButtons)

        self.pages.addWidget(self.syncPage)

        self.mainLayout.addWidget(self.pages)

#if QT_CONFIG(shortcut)
        self.nameLabel.setBuddy(self.nameEdit)
        self.roleLabel.setBuddy(self.roleCombo)
        self.teamLabel.setBuddy(self.teamEdit)
        self.neighbourhoodLabel.setBuddy(self.neighbourhoodEdit)
        self.locationLabel.setBuddy(self.locationEdit)
        self.passphraseLabel.setBuddy(self.passphraseEdit)
        self.confirmLabel.setBuddy(self.confirmEdit)
        self.endpointLabel.setBuddy(self.endpointEdit)
        self.tokenLabel.setBuddy(self.tokenEdit)
#endif // QT_CONFIG(shortcut)

        self.retranslateUi(FirstRunDialog)

        QMetaObject.connectSlotsByName(FirstRunDialog)
    # setupUi

    def retranslateUi(self, FirstRunDialog):
        FirstRunDialog.setWindowTitle(QCoreApplication.translate("FirstRunDialog", u"Set up INT Desk", None))
#if QT_CONFIG(accessibility)
        self.pages.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"First-run steps", None))
#endif // QT_CONFIG(accessibility)
        self.welcomeTitle.setText(QCoreApplication.translate("FirstRunDialog", u"Welcome to INT Desk", None))
        self.welcomeText.setText(QCoreApplication.translate("FirstRunDialog", u"INT Desk keeps your team's caseload, shared care plans and huddles on this computer, encrypted, and works offline. How would you like to start?", None))
        self.connectButton.setText(QCoreApplication.translate("FirstRunDialog", u"Connect to my team", None))
#if QT_CONFIG(accessibility)
        self.connectButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Connect to my team", None))
#endif // QT_CONFIG(accessibility)
        self.connectButton.setDescription(QCoreApplication.translate("FirstRunDialog", u"Use the address and the invitation code your INT's administrator gave you. Your team's records are downloaded and kept encrypted here.", None))
        self.createButton.setText(QCoreApplication.translate("FirstRunDialog", u"Create a new workspace", None))
#if QT_CONFIG(accessibility)
        self.createButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Create a new workspace", None))
#endif // QT_CONFIG(accessibility)
        self.createButton.setDescription(QCoreApplication.translate("FirstRunDialog", u"Start an empty, encrypted workspace for your team on this computer only. You can connect it to a team endpoint later.", None))
        self.demoButton.setText(QCoreApplication.translate("FirstRunDialog", u"Try the demo workspace", None))
#if QT_CONFIG(accessibility)
        self.demoButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Try the demo workspace", None))
#endif // QT_CONFIG(accessibility)
        self.demoButton.setDescription(QCoreApplication.translate("FirstRunDialog", u"Explore INT Desk with a demo team's caseload of fictitious patients (synthetic data only, never real people).", None))
        self.privacyNote.setText(QCoreApplication.translate("FirstRunDialog", u"Your workspace is protected by a passphrase you choose. Nobody, including your administrator, can recover it if it is lost; the team's copy on the endpoint is not affected.", None))
        self.createTitle.setText(QCoreApplication.translate("FirstRunDialog", u"Create your workspace", None))
        self.createIntro.setText(QCoreApplication.translate("FirstRunDialog", u"Tell INT Desk who you are and choose a passphrase. The passphrase encrypts everything stored on this computer.", None))
        self.aboutYouGroup.setTitle(QCoreApplication.translate("FirstRunDialog", u"About you", None))
        self.nameLabel.setText(QCoreApplication.translate("FirstRunDialog", u"Your &name", None))
#if QT_CONFIG(accessibility)
        self.nameEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Your name", None))
#endif // QT_CONFIG(accessibility)
        self.nameEdit.setPlaceholderText(QCoreApplication.translate("FirstRunDialog", u"As your team knows you, e.g. Sam Carter", None))
        self.roleLabel.setText(QCoreApplication.translate("FirstRunDialog", u"&Role", None))
#if QT_CONFIG(accessibility)
        self.roleCombo.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Your role", None))
#endif // QT_CONFIG(accessibility)
        self.teamLabel.setText(QCoreApplication.translate("FirstRunDialog", u"&Team", None))
#if QT_CONFIG(accessibility)
        self.teamEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Team name", None))
#endif // QT_CONFIG(accessibility)
        self.teamEdit.setPlaceholderText(QCoreApplication.translate("FirstRunDialog", u"e.g. Bicester INT", None))
        self.neighbourhoodLabel.setText(QCoreApplication.translate("FirstRunDialog", u"Neig&hbourhood", None))
#if QT_CONFIG(accessibility)
        self.neighbourhoodEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Neighbourhood", None))
#endif // QT_CONFIG(accessibility)
        self.neighbourhoodEdit.setPlaceholderText(QCoreApplication.translate("FirstRunDialog", u"Optional, e.g. North Oxfordshire", None))
        self.protectGroup.setTitle(QCoreApplication.translate("FirstRunDialog", u"Protect this computer's copy", None))
        self.locationLabel.setText(QCoreApplication.translate("FirstRunDialog", u"&Location", None))
#if QT_CONFIG(accessibility)
        self.locationEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Workspace folder", None))
#endif // QT_CONFIG(accessibility)
        self.browseButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Browse...", None))
#if QT_CONFIG(accessibility)
        self.browseButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Choose workspace folder", None))
#endif // QT_CONFIG(accessibility)
        self.passphraseLabel.setText(QCoreApplication.translate("FirstRunDialog", u"&Passphrase", None))
#if QT_CONFIG(accessibility)
        self.passphraseEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Passphrase", None))
#endif // QT_CONFIG(accessibility)
        self.passphraseEdit.setPlaceholderText(QCoreApplication.translate("FirstRunDialog", u"At least 10 characters; several unrelated words work well", None))
#if QT_CONFIG(accessibility)
        self.strengthBar.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Passphrase strength", None))
#endif // QT_CONFIG(accessibility)
        self.strengthLabel.setText("")
#if QT_CONFIG(accessibility)
        self.strengthLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Passphrase strength", None))
#endif // QT_CONFIG(accessibility)
        self.confirmLabel.setText(QCoreApplication.translate("FirstRunDialog", u"Con&firm", None))
#if QT_CONFIG(accessibility)
        self.confirmEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Confirm passphrase", None))
#endif // QT_CONFIG(accessibility)
        self.confirmEdit.setPlaceholderText(QCoreApplication.translate("FirstRunDialog", u"Type the passphrase again", None))
        self.matchLabel.setText("")
#if QT_CONFIG(accessibility)
        self.matchLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Passphrase confirmation", None))
#endif // QT_CONFIG(accessibility)
        self.keyringCheck.setText(QCoreApplication.translate("FirstRunDialog", u"&Remember on this computer (OS keyring), so I am not asked every time", None))
#if QT_CONFIG(accessibility)
        self.keyringCheck.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Remember on this computer", None))
#endif // QT_CONFIG(accessibility)
        self.createErrorLabel.setText("")
#if QT_CONFIG(accessibility)
        self.createErrorLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Create workspace error", None))
#endif // QT_CONFIG(accessibility)
        self.createBackButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Back", None))
#if QT_CONFIG(accessibility)
        self.createBackButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Back", None))
#endif // QT_CONFIG(accessibility)
        self.createWorkspaceButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Create workspace", None))
#if QT_CONFIG(accessibility)
        self.createWorkspaceButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Create workspace", None))
#endif // QT_CONFIG(accessibility)
        self.connectTitle.setText(QCoreApplication.translate("FirstRunDialog", u"Connect to your team", None))
        self.connectIntro.setText(QCoreApplication.translate("FirstRunDialog", u"Enter your team's endpoint address and the invitation code from your INT's administrator (12 letters and digits). The code works once: it registers this computer, which then keeps its own key.", None))
        self.endpointLabel.setText(QCoreApplication.translate("FirstRunDialog", u"&Address", None))
#if QT_CONFIG(accessibility)
        self.endpointEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Endpoint address", None))
#endif // QT_CONFIG(accessibility)
        self.endpointEdit.setPlaceholderText(QCoreApplication.translate("FirstRunDialog", u"https://int.example.nhs.uk", None))
        self.tokenLabel.setText(QCoreApplication.translate("FirstRunDialog", u"Invitation &code", None))
#if QT_CONFIG(accessibility)
        self.tokenEdit.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Invitation code", None))
#endif // QT_CONFIG(accessibility)
        self.tokenEdit.setPlaceholderText(QCoreApplication.translate("FirstRunDialog", u"e.g. K7Q4-M9XH-2PDA", None))
        self.checkButton.setText(QCoreApplication.translate("FirstRunDialog", u"Chec&k connection", None))
#if QT_CONFIG(accessibility)
        self.checkButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Check connection", None))
#endif // QT_CONFIG(accessibility)
        self.certLabel.setText("")
#if QT_CONFIG(accessibility)
        self.certLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Certificate check", None))
#endif // QT_CONFIG(accessibility)
        self.connectStatusLabel.setText("")
#if QT_CONFIG(accessibility)
        self.connectStatusLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Connection check result", None))
#endif // QT_CONFIG(accessibility)
        self.connectErrorLabel.setText("")
#if QT_CONFIG(accessibility)
        self.connectErrorLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Connection error", None))
#endif // QT_CONFIG(accessibility)
        self.connectBackButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Back", None))
#if QT_CONFIG(accessibility)
        self.connectBackButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Back", None))
#endif // QT_CONFIG(accessibility)
        self.connectNextButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Next", None))
#if QT_CONFIG(accessibility)
        self.connectNextButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Next", None))
#endif // QT_CONFIG(accessibility)
        self.syncTitle.setText(QCoreApplication.translate("FirstRunDialog", u"Downloading your team's records", None))
        self.syncIntro.setText(QCoreApplication.translate("FirstRunDialog", u"This can take a few minutes the first time. You can keep working offline afterwards; INT Desk syncs in the background.", None))
#if QT_CONFIG(accessibility)
        self.syncProgress.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Initial sync progress", None))
#endif // QT_CONFIG(accessibility)
        self.syncStatusLabel.setText("")
#if QT_CONFIG(accessibility)
        self.syncStatusLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Initial sync status", None))
#endif // QT_CONFIG(accessibility)
        self.syncErrorLabel.setText("")
#if QT_CONFIG(accessibility)
        self.syncErrorLabel.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Initial sync error", None))
#endif // QT_CONFIG(accessibility)
        self.syncStopButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Stop download", None))
#if QT_CONFIG(accessibility)
        self.syncStopButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Stop the download", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.syncStopButton.setToolTip(QCoreApplication.translate("FirstRunDialog", u"Stops after the part being received; what has arrived is kept and Retry continues from there.", None))
#endif // QT_CONFIG(tooltip)
        self.syncRetryButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Retry", None))
#if QT_CONFIG(accessibility)
        self.syncRetryButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Retry", None))
#endif // QT_CONFIG(accessibility)
        self.finishButton.setText(QCoreApplication.translate("FirstRunDialog", u"&Open INT Desk", None))
#if QT_CONFIG(accessibility)
        self.finishButton.setAccessibleName(QCoreApplication.translate("FirstRunDialog", u"Open INT Desk", None))
#endif // QT_CONFIG(accessibility)
    # retranslateUi

