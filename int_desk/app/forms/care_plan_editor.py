# Generated from ui/care_plan_editor.ui by int_desk.app.build_forms - do not edit.
# -*- coding: utf-8 -*-


from PySide6.QtCore import (QCoreApplication, QDate, QDateTime, QLocale,
    QMetaObject, QObject, QPoint, QRect,
    QSize, QTime, QUrl, Qt)
from PySide6.QtGui import (QBrush, QColor, QConicalGradient, QCursor,
    QFont, QFontDatabase, QGradient, QIcon,
    QImage, QKeySequence, QLinearGradient, QPainter,
    QPalette, QPixmap, QRadialGradient, QTransform)
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDateEdit,
    QDialog, QGridLayout, QHBoxLayout, QHeaderView,
    QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QPlainTextEdit, QPushButton, QSizePolicy, QSpacerItem,
    QTabWidget, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget)

class Ui_CarePlanEditorDialog(object):
    def setupUi(self, CarePlanEditorDialog):
        if not CarePlanEditorDialog.objectName():
            CarePlanEditorDialog.setObjectName(u"CarePlanEditorDialog")
        CarePlanEditorDialog.resize(980, 680)
        self.mainLayout = QVBoxLayout(CarePlanEditorDialog)
        self.mainLayout.setObjectName(u"mainLayout")
        self.headerLayout = QHBoxLayout()
        self.headerLayout.setObjectName(u"headerLayout")
        self.titleLabel = QLabel(CarePlanEditorDialog)
        self.titleLabel.setObjectName(u"titleLabel")
        self.titleLabel.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.headerLayout.addWidget(self.titleLabel)

        self.headerSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        self.headerLayout.addItem(self.headerSpacer)

        self.saveStatusLabel = QLabel(CarePlanEditorDialog)
        self.saveStatusLabel.setObjectName(u"saveStatusLabel")

        self.headerLayout.addWidget(self.saveStatusLabel)


        self.mainLayout.addLayout(self.headerLayout)

        self.statusLabel = QLabel(CarePlanEditorDialog)
        self.statusLabel.setObjectName(u"statusLabel")
        self.statusLabel.setWordWrap(True)

        self.mainLayout.addWidget(self.statusLabel)

        self.sectionsTab = QTabWidget(CarePlanEditorDialog)
        self.sectionsTab.setObjectName(u"sectionsTab")
        self.aboutTab = QWidget()
        self.aboutTab.setObjectName(u"aboutTab")
        self.aboutLayout = QVBoxLayout(self.aboutTab)
        self.aboutLayout.setObjectName(u"aboutLayout")
        self.aboutMeLabel = QLabel(self.aboutTab)
        self.aboutMeLabel.setObjectName(u"aboutMeLabel")

        self.aboutLayout.addWidget(self.aboutMeLabel)

        self.aboutMeEdit = QPlainTextEdit(self.aboutTab)
        self.aboutMeEdit.setObjectName(u"aboutMeEdit")
        self.aboutMeEdit.setTabChangesFocus(True)

        self.aboutLayout.addWidget(self.aboutMeEdit)

        self.whatMattersLabel = QLabel(self.aboutTab)
        self.whatMattersLabel.setObjectName(u"whatMattersLabel")

        self.aboutLayout.addWidget(self.whatMattersLabel)

        self.whatMattersEdit = QPlainTextEdit(self.aboutTab)
        self.whatMattersEdit.setObjectName(u"whatMattersEdit")
        self.whatMattersEdit.setTabChangesFocus(True)

        self.aboutLayout.addWidget(self.whatMattersEdit)

        self.sectionsTab.addTab(self.aboutTab, "")
        self.goalsTab = QWidget()
        self.goalsTab.setObjectName(u"goalsTab")
        self.goalsLayout = QVBoxLayout(self.goalsTab)
        self.goalsLayout.setObjectName(u"goalsLayout")
        self.goalsError = QLabel(self.goalsTab)
        self.goalsError.setObjectName(u"goalsError")
        self.goalsError.setWordWrap(True)

        self.goalsLayout.addWidget(self.goalsError)

        self.goalsTable = QTableWidget(self.goalsTab)
        self.goalsTable.setObjectName(u"goalsTable")
        self.goalsTable.setAlternatingRowColors(True)
        self.goalsTable.setTabKeyNavigation(False)

        self.goalsLayout.addWidget(self.goalsTable)

        self.goalAddLayout = QHBoxLayout()
        self.goalAddLayout.setObjectName(u"goalAddLayout")
        self.goalInputLabel = QLabel(self.goalsTab)
        self.goalInputLabel.setObjectName(u"goalInputLabel")

        self.goalAddLayout.addWidget(self.goalInputLabel)

        self.goalInputEdit = QLineEdit(self.goalsTab)
        self.goalInputEdit.setObjectName(u"goalInputEdit")

        self.goalAddLayout.addWidget(self.goalInputEdit)

        self.goalTargetEdit = QLineEdit(self.goalsTab)
        self.goalTargetEdit.setObjectName(u"goalTargetEdit")

        self.goalAddLayout.addWidget(self.goalTargetEdit)

        self.addGoalButton = QPushButton(self.goalsTab)
        self.addGoalButton.setObjectName(u"addGoalButton")

        self.goalAddLayout.addWidget(self.addGoalButton)

        self.removeGoalButton = QPushButton(self.goalsTab)
        self.removeGoalButton.setObjectName(u"removeGoalButton")

        self.goalAddLayout.addWidget(self.removeGoalButton)


        self.goalsLayout.addLayout(self.goalAddLayout)

        self.sectionsTab.addTab(self.goalsTab, "")
        self.actionsTab = QWidget()
        self.actionsTab.setObjectName(u"actionsTab")
        self.actionsLayout = QVBoxLayout(self.actionsTab)
        self.actionsLayout.setObjectName(u"actionsLayout")
        self.actionsTable = QTableWidget(self.actionsTab)
        self.actionsTable.setObjectName(u"actionsTable")
        self.actionsTable.setAlternatingRowColors(True)
        self.actionsTable.setTabKeyNavigation(False)

        self.actionsLayout.addWidget(self.actionsTable)

        self.actionAddLayout = QHBoxLayout()
        self.actionAddLayout.setObjectName(u"actionAddLayout")
        self.actionInputLabel = QLabel(self.actionsTab)
        self.actionInputLabel.setObjectName(u"actionInputLabel")

        self.actionAddLayout.addWidget(self.actionInputLabel)

        self.actionInputEdit = QLineEdit(self.actionsTab)
        self.actionInputEdit.setObjectName(u"actionInputEdit")

        self.actionAddLayout.addWidget(self.actionInputEdit)

        self.actionRoleCombo = QComboBox(self.actionsTab)
        self.actionRoleCombo.setObjectName(u"actionRoleCombo")

        self.actionAddLayout.addWidget(self.actionRoleCombo)

        self.actionWhenEdit = QLineEdit(self.actionsTab)
        self.actionWhenEdit.setObjectName(u"actionWhenEdit")

        self.actionAddLayout.addWidget(self.actionWhenEdit)

        self.actionGoalCombo = QComboBox(self.actionsTab)
        self.actionGoalCombo.setObjectName(u"actionGoalCombo")

        self.actionAddLayout.addWidget(self.actionGoalCombo)

        self.addActionButton = QPushButton(self.actionsTab)
        self.addActionButton.setObjectName(u"addActionButton")

        self.actionAddLayout.addWidget(self.addActionButton)

        self.removeActionButton = QPushButton(self.actionsTab)
        self.removeActionButton.setObjectName(u"removeActionButton")

        self.actionAddLayout.addWidget(self.removeActionButton)


        self.actionsLayout.addLayout(self.actionAddLayout)

        self.sectionsTab.addTab(self.actionsTab, "")
        self.contingencyTab = QWidget()
        self.contingencyTab.setObjectName(u"contingencyTab")
        self.contingencyLayout = QVBoxLayout(self.contingencyTab)
        self.contingencyLayout.setObjectName(u"contingencyLayout")
        self.contingencyLabel = QLabel(self.contingencyTab)
        self.contingencyLabel.setObjectName(u"contingencyLabel")
        self.contingencyLabel.setWordWrap(True)

        self.contingencyLayout.addWidget(self.contingencyLabel)

        self.contingencyEdit = QPlainTextEdit(self.contingencyTab)
        self.contingencyEdit.setObjectName(u"contingencyEdit")
        self.contingencyEdit.setTabChangesFocus(True)

        self.contingencyLayout.addWidget(self.contingencyEdit)

        self.carerInvolvementLabel = QLabel(self.contingencyTab)
        self.carerInvolvementLabel.setObjectName(u"carerInvolvementLabel")

        self.contingencyLayout.addWidget(self.carerInvolvementLabel)

        self.carerInvolvementEdit = QPlainTextEdit(self.contingencyTab)
        self.carerInvolvementEdit.setObjectName(u"carerInvolvementEdit")
        self.carerInvolvementEdit.setTabChangesFocus(True)

        self.contingencyLayout.addWidget(self.carerInvolvementEdit)

        self.sectionsTab.addTab(self.contingencyTab, "")
        self.clinicalTab = QWidget()
        self.clinicalTab.setObjectName(u"clinicalTab")
        self.clinicalLayout = QVBoxLayout(self.clinicalTab)
        self.clinicalLayout.setObjectName(u"clinicalLayout")
        self.clinicalNoteLabel = QLabel(self.clinicalTab)
        self.clinicalNoteLabel.setObjectName(u"clinicalNoteLabel")
        self.clinicalNoteLabel.setWordWrap(True)

        self.clinicalLayout.addWidget(self.clinicalNoteLabel)

        self.clinicalSummaryLabel = QLabel(self.clinicalTab)
        self.clinicalSummaryLabel.setObjectName(u"clinicalSummaryLabel")

        self.clinicalLayout.addWidget(self.clinicalSummaryLabel)

        self.clinicalSummaryEdit = QPlainTextEdit(self.clinicalTab)
        self.clinicalSummaryEdit.setObjectName(u"clinicalSummaryEdit")
        self.clinicalSummaryEdit.setTabChangesFocus(True)

        self.clinicalLayout.addWidget(self.clinicalSummaryEdit)

        self.medicinesLabel = QLabel(self.clinicalTab)
        self.medicinesLabel.setObjectName(u"medicinesLabel")

        self.clinicalLayout.addWidget(self.medicinesLabel)

        self.medicinesEdit = QPlainTextEdit(self.clinicalTab)
        self.medicinesEdit.setObjectName(u"medicinesEdit")
        self.medicinesEdit.setTabChangesFocus(True)

        self.clinicalLayout.addWidget(self.medicinesEdit)

        self.sectionsTab.addTab(self.clinicalTab, "")
        self.consentTab = QWidget()
        self.consentTab.setObjectName(u"consentTab")
        self.consentLayout = QGridLayout(self.consentTab)
        self.consentLayout.setObjectName(u"consentLayout")
        self.leadLabel = QLabel(self.consentTab)
        self.leadLabel.setObjectName(u"leadLabel")

        self.consentLayout.addWidget(self.leadLabel, 0, 0, 1, 1)

        self.leadCombo = QComboBox(self.consentTab)
        self.leadCombo.setObjectName(u"leadCombo")

        self.consentLayout.addWidget(self.leadCombo, 0, 1, 1, 1)

        self.reviewDateLabel = QLabel(self.consentTab)
        self.reviewDateLabel.setObjectName(u"reviewDateLabel")

        self.consentLayout.addWidget(self.reviewDateLabel, 1, 0, 1, 1)

        self.reviewDateEdit = QDateEdit(self.consentTab)
        self.reviewDateEdit.setObjectName(u"reviewDateEdit")
        self.reviewDateEdit.setCalendarPopup(True)

        self.consentLayout.addWidget(self.reviewDateEdit, 1, 1, 1, 1)

        self.reviewDateError = QLabel(self.consentTab)
        self.reviewDateError.setObjectName(u"reviewDateError")
        self.reviewDateError.setWordWrap(True)

        self.consentLayout.addWidget(self.reviewDateError, 2, 1, 1, 1)

        self.consentLabel = QLabel(self.consentTab)
        self.consentLabel.setObjectName(u"consentLabel")

        self.consentLayout.addWidget(self.consentLabel, 3, 0, 1, 1)

        self.consentCombo = QComboBox(self.consentTab)
        self.consentCombo.setObjectName(u"consentCombo")

        self.consentLayout.addWidget(self.consentCombo, 3, 1, 1, 1)

        self.consentError = QLabel(self.consentTab)
        self.consentError.setObjectName(u"consentError")
        self.consentError.setWordWrap(True)

        self.consentLayout.addWidget(self.consentError, 4, 1, 1, 1)

        self.consentWithLabel = QLabel(self.consentTab)
        self.consentWithLabel.setObjectName(u"consentWithLabel")

        self.consentLayout.addWidget(self.consentWithLabel, 5, 0, 1, 1)

        self.consentWithEdit = QLineEdit(self.consentTab)
        self.consentWithEdit.setObjectName(u"consentWithEdit")

        self.consentLayout.addWidget(self.consentWithEdit, 5, 1, 1, 1)

        self.consentRecordedLabel = QLabel(self.consentTab)
        self.consentRecordedLabel.setObjectName(u"consentRecordedLabel")
        self.consentRecordedLabel.setWordWrap(True)

        self.consentLayout.addWidget(self.consentRecordedLabel, 6, 1, 1, 1)

        self.consentSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.consentLayout.addItem(self.consentSpacer, 7, 0, 1, 1)

        self.sectionsTab.addTab(self.consentTab, "")
        self.historyTab = QWidget()
        self.historyTab.setObjectName(u"historyTab")
        self.historyLayout = QVBoxLayout(self.historyTab)
        self.historyLayout.setObjectName(u"historyLayout")
        self.historyLabel = QLabel(self.historyTab)
        self.historyLabel.setObjectName(u"historyLabel")

        self.historyLayout.addWidget(self.historyLabel)

        self.historyList = QListWidget(self.historyTab)
        self.historyList.setObjectName(u"historyList")

        self.historyLayout.addWidget(self.historyList)

        self.diffPickLayout = QHBoxLayout()
        self.diffPickLayout.setObjectName(u"diffPickLayout")
        self.diffFromLabel = QLabel(self.historyTab)
        self.diffFromLabel.setObjectName(u"diffFromLabel")

        self.diffPickLayout.addWidget(self.diffFromLabel)

        self.diffFromCombo = QComboBox(self.historyTab)
        self.diffFromCombo.setObjectName(u"diffFromCombo")

        self.diffPickLayout.addWidget(self.diffFromCombo)

        self.diffToLabel = QLabel(self.historyTab)
        self.diffToLabel.setObjectName(u"diffToLabel")

        self.diffPickLayout.addWidget(self.diffToLabel)

        self.diffToCombo = QComboBox(self.historyTab)
        self.diffToCombo.setObjectName(u"diffToCombo")

        self.diffPickLayout.addWidget(self.diffToCombo)

        self.diffButton = QPushButton(self.historyTab)
        self.diffButton.setObjectName(u"diffButton")

        self.diffPickLayout.addWidget(self.diffButton)


        self.historyLayout.addLayout(self.diffPickLayout)

        self.diffText = QPlainTextEdit(self.historyTab)
        self.diffText.setObjectName(u"diffText")
        self.diffText.setReadOnly(True)

        self.historyLayout.addWidget(self.diffText)

        self.sectionsTab.addTab(self.historyTab, "")

        self.mainLayout.addWidget(self.sectionsTab)

        self.problemsLabel = QLabel(CarePlanEditorDialog)
        self.problemsLabel.setObjectName(u"problemsLabel")
        self.problemsLabel.setWordWrap(True)

        self.mainLayout.addWidget(self.problemsLabel)

        self.buttonLayout = QHBoxLayout()
        self.buttonLayout.setObjectName(u"buttonLayout")
        self.undoButton = QPushButton(CarePlanEditorDialog)
        self.undoButton.setObjectName(u"undoButton")

        self.buttonLayout.addWidget(self.undoButton)

        self.redoButton = QPushButton(CarePlanEditorDialog)
        self.redoButton.setObjectName(u"redoButton")

        self.buttonLayout.addWidget(self.redoButton)

        self.buttonSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        self.buttonLayout.addItem(self.buttonSpacer)

        self.newDraftButton = QPushButton(CarePlanEditorDialog)
        self.newDraftButton.setObjectName(u"newDraftButton")

        self.buttonLayout.addWidget(self.newDraftButton)

        self.exportButton = QPushButton(CarePlanEditorDialog)
        self.exportButton.setObjectName(u"exportButton")

        self.buttonLayout.addWidget(self.exportButton)

        self.carerCopyButton = QPushButton(CarePlanEditorDialog)
        self.carerCopyButton.setObjectName(u"carerCopyButton")

        self.buttonLayout.addWidget(self.carerCopyButton)

        self.largePrintCheck = QCheckBox(CarePlanEditorDialog)
        self.largePrintCheck.setObjectName(u"largePrintCheck")

        self.buttonLayout.addWidget(self.largePrintCheck)

        self.signOffButton = QPushButton(CarePlanEditorDialog)
        self.signOffButton.setObjectName(u"signOffButton")

        self.buttonLayout.addWidget(self.signOffButton)

        self.closeButton = QPushButton(CarePlanEditorDialog)
        self.closeButton.setObjectName(u"closeButton")

        self.buttonLayout.addWidget(self.closeButton)


        self.mainLayout.addLayout(self.buttonLayout)

#if QT_CONFIG(shortcut)
        self.aboutMeLabel.setBuddy(self.aboutMeEdit)
        self.whatMattersLabel.setBuddy(self.whatMattersEdit)
        self.goalInputLabel.setBuddy(self.goalInputEdit)
        self.actionInputLabel.setBuddy(self.actionInputEdit)
        self.contingencyLabel.setBuddy(self.contingencyEdit)
        self.carerInvolvementLabel.setBuddy(self.carerInvolvementEdit)
        self.clinicalSummaryLabel.setBuddy(self.clinicalSummaryEdit)
        self.medicinesLabel.setBuddy(self.medicinesEdit)
        self.leadLabel.setBuddy(self.leadCombo)
        self.reviewDateLabel.setBuddy(self.reviewDateEdit)
        self.consentLabel.setBuddy(self.consentCombo)
        self.consentWithLabel.setBuddy(self.consentWithEdit)
        self.historyLabel.setBuddy(self.historyList)
        self.diffFromLabel.setBuddy(self.diffFromCombo)
        self.diffToLabel.setBuddy(self.diffToCombo)
#endif // QT_CONFIG(shortcut)

        self.retranslateUi(CarePlanEditorDialog)

        QMetaObject.connectSlotsByName(CarePlanEditorDialog)
    # setupUi

    def retranslateUi(self, CarePlanEditorDialog):
        CarePlanEditorDialog.setWindowTitle(QCoreApplication.translate("CarePlanEditorDialog", u"Care plan", None))
        self.titleLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Care plan", None))
#if QT_CONFIG(accessibility)
        self.titleLabel.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Plan title", None))
#endif // QT_CONFIG(accessibility)
        self.saveStatusLabel.setText("")
#if QT_CONFIG(accessibility)
        self.saveStatusLabel.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Save status", None))
#endif // QT_CONFIG(accessibility)
        self.statusLabel.setText("")
#if QT_CONFIG(accessibility)
        self.statusLabel.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Plan status", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(accessibility)
        self.sectionsTab.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Care plan sections", None))
#endif // QT_CONFIG(accessibility)
        self.aboutMeLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&About me (in the person's own words)", None))
#if QT_CONFIG(accessibility)
        self.aboutMeEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"About me", None))
#endif // QT_CONFIG(accessibility)
        self.aboutMeEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"Who I am, my life, what I want people to know about me", None))
        self.whatMattersLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&What matters to me", None))
#if QT_CONFIG(accessibility)
        self.whatMattersEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"What matters to me", None))
#endif // QT_CONFIG(accessibility)
        self.whatMattersEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"What matters most to the person", None))
        self.sectionsTab.setTabText(self.sectionsTab.indexOf(self.aboutTab), QCoreApplication.translate("CarePlanEditorDialog", u"&1 About me", None))
        self.goalsError.setText("")
#if QT_CONFIG(accessibility)
        self.goalsError.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Goals problem", None))
#endif // QT_CONFIG(accessibility)
        self.goalsError.setStyleSheet(QCoreApplication.translate("CarePlanEditorDialog", u"color: #b00020;", None))
#if QT_CONFIG(accessibility)
        self.goalsTable.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Goals", None))
#endif // QT_CONFIG(accessibility)
        self.goalInputLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"New &goal", None))
#if QT_CONFIG(accessibility)
        self.goalInputEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"New goal in the person's own words", None))
#endif // QT_CONFIG(accessibility)
        self.goalInputEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"In the person's own words, e.g. I want to walk to the shop again", None))
#if QT_CONFIG(accessibility)
        self.goalTargetEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Measurable target", None))
#endif // QT_CONFIG(accessibility)
        self.goalTargetEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"Measurable target", None))
        self.addGoalButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Add goal", None))
#if QT_CONFIG(accessibility)
        self.addGoalButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Add goal", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.addGoalButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Add the goal (Enter)", None))
#endif // QT_CONFIG(tooltip)
        self.removeGoalButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Remove goal", None))
#if QT_CONFIG(accessibility)
        self.removeGoalButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Remove goal", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.removeGoalButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Remove the selected goal", None))
#endif // QT_CONFIG(tooltip)
        self.sectionsTab.setTabText(self.sectionsTab.indexOf(self.goalsTab), QCoreApplication.translate("CarePlanEditorDialog", u"&2 Goals", None))
#if QT_CONFIG(accessibility)
        self.actionsTable.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Actions", None))
#endif // QT_CONFIG(accessibility)
        self.actionInputLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"New a&ction", None))
#if QT_CONFIG(accessibility)
        self.actionInputEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"New action: what will be done", None))
#endif // QT_CONFIG(accessibility)
        self.actionInputEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"What will be done", None))
#if QT_CONFIG(accessibility)
        self.actionRoleCombo.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Who: role", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(accessibility)
        self.actionWhenEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"When", None))
#endif // QT_CONFIG(accessibility)
        self.actionWhenEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"When, e.g. within 2 weeks", None))
#if QT_CONFIG(accessibility)
        self.actionGoalCombo.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Linked goal", None))
#endif // QT_CONFIG(accessibility)
        self.addActionButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Add action", None))
#if QT_CONFIG(accessibility)
        self.addActionButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Add action", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.addActionButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Add the action (Enter)", None))
#endif // QT_CONFIG(tooltip)
        self.removeActionButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Remove action", None))
#if QT_CONFIG(accessibility)
        self.removeActionButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Remove action", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.removeActionButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Remove the selected action", None))
#endif // QT_CONFIG(tooltip)
        self.sectionsTab.setTabText(self.sectionsTab.indexOf(self.actionsTab), QCoreApplication.translate("CarePlanEditorDialog", u"&3 Actions", None))
        self.contingencyLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&Contingency / crisis plan: if X happens, do Y, call Z", None))
#if QT_CONFIG(accessibility)
        self.contingencyEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Contingency plan", None))
#endif // QT_CONFIG(accessibility)
        self.contingencyEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"If more breathless than usual: use the rescue pack, then call the INT. If chest pain: call 999.", None))
        self.carerInvolvementLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Unpaid &carer's involvement", None))
#if QT_CONFIG(accessibility)
        self.carerInvolvementEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Unpaid carer's involvement", None))
#endif // QT_CONFIG(accessibility)
        self.carerInvolvementEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"What the carer does, and what support they need", None))
        self.sectionsTab.setTabText(self.sectionsTab.indexOf(self.contingencyTab), QCoreApplication.translate("CarePlanEditorDialog", u"&4 Contingency and carer", None))
        self.clinicalNoteLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Internal clinical notes: left out of the patient/carer copy.", None))
        self.clinicalSummaryLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Clinical &summary", None))
#if QT_CONFIG(accessibility)
        self.clinicalSummaryEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Clinical summary", None))
#endif // QT_CONFIG(accessibility)
        self.clinicalSummaryEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"Conditions, recent changes, risks", None))
        self.medicinesLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&Medicines notes", None))
#if QT_CONFIG(accessibility)
        self.medicinesEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Medicines notes", None))
#endif // QT_CONFIG(accessibility)
        self.medicinesEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"Blister pack, rescue medicines, recent changes", None))
        self.sectionsTab.setTabText(self.sectionsTab.indexOf(self.clinicalTab), QCoreApplication.translate("CarePlanEditorDialog", u"&5 Clinical", None))
        self.leadLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Named &lead professional", None))
#if QT_CONFIG(accessibility)
        self.leadCombo.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Named lead professional", None))
#endif // QT_CONFIG(accessibility)
        self.reviewDateLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&Review date", None))
#if QT_CONFIG(accessibility)
        self.reviewDateEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Review date", None))
#endif // QT_CONFIG(accessibility)
        self.reviewDateEdit.setDisplayFormat(QCoreApplication.translate("CarePlanEditorDialog", u"d MMM yyyy", None))
        self.reviewDateEdit.setSpecialValueText(QCoreApplication.translate("CarePlanEditorDialog", u"Not set", None))
        self.reviewDateError.setText("")
#if QT_CONFIG(accessibility)
        self.reviewDateError.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Review date problem", None))
#endif // QT_CONFIG(accessibility)
        self.reviewDateError.setStyleSheet(QCoreApplication.translate("CarePlanEditorDialog", u"color: #b00020;", None))
        self.consentLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Consent to &share", None))
#if QT_CONFIG(accessibility)
        self.consentCombo.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Consent to share", None))
#endif // QT_CONFIG(accessibility)
        self.consentError.setText("")
#if QT_CONFIG(accessibility)
        self.consentError.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Consent problem", None))
#endif // QT_CONFIG(accessibility)
        self.consentError.setStyleSheet(QCoreApplication.translate("CarePlanEditorDialog", u"color: #b00020;", None))
        self.consentWithLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Shared &with", None))
#if QT_CONFIG(accessibility)
        self.consentWithEdit.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Consent: shared with", None))
#endif // QT_CONFIG(accessibility)
        self.consentWithEdit.setPlaceholderText(QCoreApplication.translate("CarePlanEditorDialog", u"e.g. INT members, GP practice, care agencies", None))
        self.consentRecordedLabel.setText("")
#if QT_CONFIG(accessibility)
        self.consentRecordedLabel.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Consent recorded by", None))
#endif // QT_CONFIG(accessibility)
        self.sectionsTab.setTabText(self.sectionsTab.indexOf(self.consentTab), QCoreApplication.translate("CarePlanEditorDialog", u"&6 Lead, review and consent", None))
        self.historyLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&Versions (newest first)", None))
#if QT_CONFIG(accessibility)
        self.historyList.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Versions", None))
#endif // QT_CONFIG(accessibility)
        self.diffFromLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Compare &from", None))
#if QT_CONFIG(accessibility)
        self.diffFromCombo.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Compare from version", None))
#endif // QT_CONFIG(accessibility)
        self.diffToLabel.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&to", None))
#if QT_CONFIG(accessibility)
        self.diffToCombo.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Compare to version", None))
#endif // QT_CONFIG(accessibility)
        self.diffButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Show &differences", None))
#if QT_CONFIG(accessibility)
        self.diffButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Show differences", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(accessibility)
        self.diffText.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Differences between versions", None))
#endif // QT_CONFIG(accessibility)
        self.sectionsTab.setTabText(self.sectionsTab.indexOf(self.historyTab), QCoreApplication.translate("CarePlanEditorDialog", u"&7 History", None))
        self.problemsLabel.setText("")
#if QT_CONFIG(accessibility)
        self.problemsLabel.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"What is still needed before sign-off", None))
#endif // QT_CONFIG(accessibility)
        self.undoButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&Undo", None))
#if QT_CONFIG(accessibility)
        self.undoButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Undo", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.undoButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Undo (Ctrl+Z)", None))
#endif // QT_CONFIG(tooltip)
        self.redoButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Re&do", None))
#if QT_CONFIG(accessibility)
        self.redoButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Redo", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.redoButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Redo (Ctrl+Shift+Z)", None))
#endif // QT_CONFIG(tooltip)
        self.newDraftButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Start &new draft", None))
#if QT_CONFIG(accessibility)
        self.newDraftButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Start new draft", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.newDraftButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Start a new draft from the signed-off plan", None))
#endif // QT_CONFIG(tooltip)
        self.exportButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"&Export PDF\u2026", None))
#if QT_CONFIG(accessibility)
        self.exportButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Export PDF", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.exportButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Export the professional copy (Ctrl+E)", None))
#endif // QT_CONFIG(tooltip)
        self.carerCopyButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Ca&rer copy\u2026", None))
#if QT_CONFIG(accessibility)
        self.carerCopyButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Carer copy", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.carerCopyButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Export the plain-language patient/carer copy", None))
#endif // QT_CONFIG(tooltip)
        self.largePrintCheck.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Large &print", None))
#if QT_CONFIG(accessibility)
        self.largePrintCheck.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Large print carer copy", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.largePrintCheck.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Make the carer copy large print (16 pt and over, simple layout). Ticked when the person's record asks for large print.", None))
#endif // QT_CONFIG(tooltip)
        self.signOffButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Sign &off", None))
#if QT_CONFIG(accessibility)
        self.signOffButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Sign off", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.signOffButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Sign off this draft (clinical lead or a role the team allows)", None))
#endif // QT_CONFIG(tooltip)
        self.closeButton.setText(QCoreApplication.translate("CarePlanEditorDialog", u"Close", None))
#if QT_CONFIG(accessibility)
        self.closeButton.setAccessibleName(QCoreApplication.translate("CarePlanEditorDialog", u"Close", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.closeButton.setToolTip(QCoreApplication.translate("CarePlanEditorDialog", u"Close (Esc); drafts are saved automatically", None))
#endif // QT_CONFIG(tooltip)
    # retranslateUi

